"""Use cases: Docker semantics over the stores and the driver."""
