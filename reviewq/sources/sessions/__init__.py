"""Agents' session stores on this machine, read-only: where they are (`stores`) and a cache of
what each file holds (`index`), so a scan over many commits parses each file once."""
