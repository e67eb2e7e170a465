"""Benchmarks of ORS Gateway (DESIGN §9): programs run on demand by `make bench`, never tests."""
