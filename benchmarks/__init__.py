"""Benchmarks that print tables: HTTP against the bare library, views at scale, sweeps, exports.
Run each as ``python -m benchmarks.<name> --help``."""
