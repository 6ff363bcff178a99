"""The workflow shells: what a command or a screen asks for, assembled from the
sources, the store, the critics and the pure core."""
