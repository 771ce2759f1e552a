"""Benchmarks: ours against peers, each peer in its own process; ratios, never timed asserts."""
