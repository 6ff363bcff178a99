"""Local state: the provenance log and small caches."""
