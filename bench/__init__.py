"""Measured speed and robustness: ``python -m bench`` (report) and ``python -m bench.load``."""
