"""Pure core: data in, data out. No git, no Textual, no network, no clock."""
