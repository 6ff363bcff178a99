"""Thin shells that read the outside world (git, files) into core models."""
