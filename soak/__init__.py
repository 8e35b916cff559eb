"""`make soak`: the fault and fuzz suite (tests/faults) at its long size, and docs/reliability.md from it."""
