"""Benchmarks of ORS Gateway: programs run on demand by `make bench`, never tests.

Targets and latest results: README, Benchmarks.
"""
