"""reviewq: the terminal review queue for AI-authored changes."""

__version__ = "0.1.0"
