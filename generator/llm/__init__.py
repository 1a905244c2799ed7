"""Seams to model endpoints: the LLM client Protocol, OpenAI client, embedded server, rate limit, pricing."""
