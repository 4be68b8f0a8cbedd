"""Reliability: faults, crashes, bad input, secrets, property tests and fuzzing (issue 8)."""
