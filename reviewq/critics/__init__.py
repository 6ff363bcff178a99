"""Critics: a second model family reads the diff."""
