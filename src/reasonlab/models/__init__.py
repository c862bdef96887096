"""Models the project can build without downloading weights (tiny, random-init, for tests and CPU runs)."""
