"""make bench and its sections of docs/benchmarks.md."""
