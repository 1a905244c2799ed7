"""Secrets out of text: what the service stores or prints never shows a key or a password.

Server error messages are stored in ``llm_requests.error`` and ``rounds.error`` and printed; a
server may echo the request's key in them. URLs in settings may carry a password.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<password>[^@\s]*)@")
# OpenAI-style keys (sk-..., sk-proj-...), and the value of an Authorization: Bearer header.
_TOKENS = re.compile(r"\b(?:sk|rk|pk)-[A-Za-z0-9_\-]{8,}")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=\-]{4,}")
# Keys shorter than this are placeholders ("not-needed", "x"): masking them would mangle text.
MIN_SECRET_LENGTH = 6


def mask_url_passwords(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` replaced by ``***``."""
    return _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` without the given secrets, ``sk-``-like keys, Bearer values or URL passwords."""
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET_LENGTH:
            text = text.replace(secret, MASK)
    text = _TOKENS.sub(MASK, text)
    text = _BEARER.sub(lambda m: f"{m[1]} {MASK}", text)
    return mask_url_passwords(text)
