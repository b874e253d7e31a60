"""Benchmarks (``make bench``): every figure is a ratio against a baseline measured in the same
run, since this machine is shared and noisy. Not part of the test suite."""
