"""The scan engine: per-file phase (parallel, cached), then the project phase."""
