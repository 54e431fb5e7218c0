"""Benchmarks: each measures one thing on a throwaway real stack and writes bench/results/."""
