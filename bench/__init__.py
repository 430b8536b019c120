"""The benchmark suite: `python -m bench [--quick] [name ...]` (see bench/README.md)."""
