"""The stream engine: generation, batched persistence, stop, resume."""
