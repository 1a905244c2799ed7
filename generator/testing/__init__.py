"""Shipped test doubles: a scripted OpenAI-compatible server and its responders, used by tests and bench."""
