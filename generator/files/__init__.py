"""Reading instruction files (plain text, JSON, JSONL) into typed records; atomic JSON/JSONL writing."""
