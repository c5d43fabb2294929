"""Real infrastructure for tests and benchmarks: private batch systems on loopback."""
