"""Throughput and memory benchmarks of tap-ignite and target-ignite against the sandbox."""
