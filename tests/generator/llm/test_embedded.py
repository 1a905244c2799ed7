"""The real embedded model: llama-cpp-python's server in a subprocess, reached through OpenAIClient."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from generator.errors import EmbeddedModelError
from generator.llm.embedded import MODEL_ALIAS, EmbeddedServer
from generator.llm.endpoint import build_client
from generator.records import Stage
from generator.selfinstruct.params import Decoding
from generator.settings import Settings

needs_llama_cpp = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="llama-cpp-python is not installed: pip install -e '.[embedded]'",
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie would still answer kill(0); the server is reaped by Popen.wait, so check the state.
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().split(") ")[-1][:1] != "Z"


@pytest.mark.embedded
@pytest.mark.slow
@needs_llama_cpp
def test_embedded_server_completes_and_goes_away() -> None:
    settings = Settings(llm_base_url=None, llm_model=None, embedded_startup_timeout_s=180)
    with EmbeddedServer(settings) as server:
        pid = server.pid
        assert pid is not None and server.base_url.startswith("http://127.0.0.1:")
        client = build_client(settings, base_url=server.base_url)
        assert client.model == MODEL_ALIAS and client.api == "completions"
        decoding = Decoding(temperature=0.0, top_p=1.0, max_tokens=24, stop=("\n\n",))
        call = client.complete(["Instruction: Name three colors.\nOutput:"], decoding, Stage.GENERATE)
        assert call.error is None, call.error
        assert call.choices[0].text.strip()
        assert call.prompt_tokens > 0 and call.completion_tokens > 0
        assert call.choices[0].finish_reason in ("stop", "length")
        text = call.choices[0].text
        print(f"start-up {server.startup_s:.2f} s, completion {call.latency_s:.2f} s: {text!r}")
    assert server.pid is None and not _alive(pid)


@pytest.mark.embedded
@needs_llama_cpp
def test_a_server_that_dies_at_start_up_is_reported_with_its_log(tmp_path: Path, bogus_model: Path) -> None:
    server = EmbeddedServer(Settings(embedded_startup_timeout_s=120), directory=tmp_path)
    with pytest.raises(EmbeddedModelError, match="exited with code") as caught:
        server.start()
    assert str(bogus_model) in str(caught.value)  # the log tail names what failed to load
    assert server.pid is None


def test_missing_llama_cpp_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "llama_cpp" else real(name))
    with pytest.raises(EmbeddedModelError, match=r"pip install -e '\.\[embedded\]'.*llama_cpp"):
        EmbeddedServer(Settings(), directory=tmp_path).start()
