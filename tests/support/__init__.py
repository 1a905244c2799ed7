"""Test support code: seeded pools and the reference-file location (the doubles live in generator.testing)."""
