"""What the integration tests, the chaos suite and the benchmark share (Tests/support/README.md)."""
