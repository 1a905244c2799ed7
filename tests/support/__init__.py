"""Test support code shared by the test suite and the benchmark: LLM double and responders."""
