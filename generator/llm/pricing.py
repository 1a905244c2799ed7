"""What an LLM request cost, from the per-million-token prices in the settings.

Prices are not known for arbitrary OpenAI-compatible endpoints (and the embedded model
is free), so cost is *optional*: ``None`` means "not configured", never "zero". Prompt
tokens the endpoint served from its cache are priced at
``SELFINSTRUCT_LLM_PRICE_CACHED_INPUT_PER_MTOK`` when that is set (OpenAI bills them at a
fraction of the input price), else as ordinary input.
"""

from __future__ import annotations

from generator.settings import Settings

TOKENS_PER_PRICE_UNIT = 1_000_000  # prices are quoted per million tokens


def cost_usd(
    prompt_tokens: int, completion_tokens: int, settings: Settings, cached_tokens: int | None = None
) -> float | None:
    """Return the cost in US dollars, or ``None`` unless both input and output prices are set.

    Both prices are required because a half-configured price would silently under-report.
    ``cached_tokens`` (a subset of ``prompt_tokens``; None = not reported) are charged the cached
    price when one is configured. Raises ValueError for negative counts or more cached than prompt
    tokens.
    """
    price_in = settings.llm_price_input_per_mtok
    price_out = settings.llm_price_output_per_mtok
    if price_in is None or price_out is None:
        return None
    cached = cached_tokens or 0
    if prompt_tokens < 0 or completion_tokens < 0 or cached < 0:
        raise ValueError("token counts cannot be negative")
    if cached > prompt_tokens:
        raise ValueError(f"{cached} cached tokens exceed the {prompt_tokens} prompt tokens")
    price_cached = settings.llm_price_cached_input_per_mtok
    price_cached = price_in if price_cached is None else price_cached
    total = (prompt_tokens - cached) * price_in + cached * price_cached + completion_tokens * price_out
    return total / TOKENS_PER_PRICE_UNIT
