"""Test support shared by tests/ and benchmarks/: the isolated git environment, real git servers on loopback,
and the fault proxy. Nothing in here imports pytest at module level, so the benchmarks can use it as it is."""
