"""Connecting to the configured endpoint: which URL and which model (asked of ``/models`` when unset)."""

from __future__ import annotations

import threading

import openai

from generator.errors import ConfigError
from generator.llm.client import Throttle
from generator.llm.openai_client import OpenAIClient
from generator.llm.openai_client import _classify as classify_failure
from generator.redaction import redact
from generator.settings import Settings

__all__ = ["build_client"]


def build_client(
    settings: Settings,
    base_url: str | None = None,
    model: str | None = None,
    throttle: Throttle | None = None,
    stop: threading.Event | None = None,
) -> OpenAIClient:
    """The client for ``base_url`` (the embedded server's) or ``SELFINSTRUCT_LLM_BASE_URL``.

    The model is ``model``, else ``SELFINSTRUCT_LLM_MODEL``, else the first id the endpoint lists
    at ``/models`` (the embedded server serves exactly one); ConfigError if none can be found.
    """
    url = base_url or settings.llm_base_url
    if url is None:
        raise ConfigError("SELFINSTRUCT_LLM_BASE_URL is not set and no embedded server was started")
    name = model or settings.llm_model or _first_model(url, settings.api_key, settings.llm_timeout_s)
    return OpenAIClient(
        url, settings.api_key, name, api=settings.llm_api, timeout_s=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries, throttle=throttle,
        prompts_per_request=settings.prompts_per_request, stop=stop,
    )


def _first_model(base_url: str, api_key: str, timeout_s: float) -> str:
    client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=min(timeout_s, 30.0), max_retries=2)
    try:
        ids = [m.id for m in client.models.list()]
    except openai.APIError as exc:
        raise ConfigError(_models_error(base_url, api_key, exc)) from None
    if not ids:
        where = redact(base_url)
        raise ConfigError(f"SELFINSTRUCT_LLM_MODEL is not set and {where}/models lists no model; set it")
    return ids[0]


def _models_error(base_url: str, api_key: str, exc: openai.APIError) -> str:
    """Why the model list could not be read, blaming what is wrong (the key, the URL), secrets redacted."""
    where = f"{redact(base_url, (api_key,))}/models"
    if isinstance(exc, openai.APIStatusError) and exc.status_code in (401, 403):
        reason = redact(exc.message[:300], (api_key,))
        return f"the endpoint refused the API key at {where} ({reason}): check SELFINSTRUCT_LLM_API_KEY"
    _, reason, _ = classify_failure(exc)
    reason = redact(reason, (api_key,))
    return (f"cannot list the models at {where} ({reason}): check SELFINSTRUCT_LLM_BASE_URL "
            "or set SELFINSTRUCT_LLM_MODEL")
