"""What an LLM request cost, from the per-million-token prices in the settings.

Prices are not known for arbitrary OpenAI-compatible endpoints (and the embedded model
is free), so cost is *optional*: ``None`` means "not configured", never "zero".
"""

from __future__ import annotations

from generator.settings import Settings

TOKENS_PER_PRICE_UNIT = 1_000_000  # prices are quoted per million tokens


def cost_usd(prompt_tokens: int, completion_tokens: int, settings: Settings) -> float | None:
    """Return the cost in US dollars, or ``None`` unless both input and output prices are set.

    Both prices are required because a half-configured price would silently under-report.
    """
    price_in = settings.llm_price_input_per_mtok
    price_out = settings.llm_price_output_per_mtok
    if price_in is None or price_out is None:
        return None
    if prompt_tokens < 0 or completion_tokens < 0:
        raise ValueError("token counts cannot be negative")
    return (prompt_tokens * price_in + completion_tokens * price_out) / TOKENS_PER_PRICE_UNIT
