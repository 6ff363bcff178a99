"""Command implementations behind reviewq.cli; each module is imported only when used."""
