"""Scripted players and hosts: the demo, the end-to-end tests and the benchmarks use them."""
