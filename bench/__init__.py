"""Benchmarks: the project's speed and memory as ratios against references run side by side."""
