"""Fixtures of the LLM seam tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.llm import embedded


@pytest.fixture
def bogus_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A file with a GGUF magic but no model, served in place of the embedded model: its servers exit
    during start-up with llama.cpp's load error in their logs."""
    bogus = tmp_path / "not-a-model.gguf"
    bogus.write_bytes(b"GGUF but not really")
    monkeypatch.setattr(embedded, "model_path", lambda directory: bogus)
    return bogus
