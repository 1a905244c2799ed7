"""Where the original Self-Instruct reference files live: ``../shared/reference`` beside the checkout.

A fresh clone has no ``../shared``: tests that read these files call :func:`reference_file`, which
skips the test with the path it looked at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REFERENCE_DIR = REPO.parent / "shared" / "reference"


def reference_file(name: str) -> Path:
    """The path of reference file ``name``; skips the calling test when it is absent."""
    path = REFERENCE_DIR / name
    if not path.is_file():
        pytest.skip(f"reference file not found: {path}")
    return path
