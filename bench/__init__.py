"""Ripple's benchmarks (issue #5): each prints a figure, a baseline measured in the same
run, and their ratio. Run them with `make bench` or `python -m bench`; see
docs/benchmarks.md for the method and the latest results."""
