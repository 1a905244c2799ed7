"""Round execution: the in-process runner (and the pure round policy both executors share)."""
