"""Several real embedded servers: one prompt family per slot keeps each few-shot prefix evaluated.

Two families alternate (A, B, A, B...). On one server each switch evaluates the other family's
prefix again; on servers routed by family (the default layout: one per family, and one kept for
generation) every repeat reuses its prefix from the slot. The server logs say how many prompt
tokens were reused.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from generator.errors import EmbeddedModelError
from generator.llm import embedded
from generator.llm.embedded_log import PrefixReuse
from generator.llm.embedded_servers import EmbeddedServers
from generator.llm.endpoint import build_client
from generator.records import Stage
from generator.selfinstruct.params import Decoding
from generator.settings import Settings

needs_llama_cpp = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="llama-cpp-python is not installed: pip install -e '.[embedded]'",
)
DECODING = Decoding(temperature=0.0, top_p=1.0, max_tokens=1)
A = "Family A: notes on rivers.\n" + "".join(f"River {i} runs through valley {i * 7}.\n" for i in range(60))
B = "Family B: notes on birds.\n" + "".join(f"Bird {i} nests in tree {i * 3}.\n" for i in range(60))


def _alternate(servers: EmbeddedServers, rounds: int = 3, families: tuple[str, ...] = (A, B)) -> None:
    settings = servers.servers[0].settings
    client = servers.client(lambda server: build_client(settings, base_url=server.base_url))
    for i in range(rounds):
        for family in families:
            call = client.complete([f"{family}Question {i}:"], DECODING, Stage.CLASSIFY)
            assert call.error is None, call.error


@pytest.mark.embedded
@pytest.mark.slow
@needs_llama_cpp
def test_one_server_per_family_reuses_each_prefix_where_one_shared_server_cannot() -> None:
    settings = Settings(llm_base_url=None, llm_model=None, embedded_startup_timeout_s=180)
    with EmbeddedServers(settings, 1) as shared:
        _alternate(shared)
    with EmbeddedServers(settings, 3) as routed:  # A and B pinned, the third kept for generation
        pids = [s.pid for s in routed.servers]
        assert len(set(pids)) == 3
        _alternate(routed)
    assert all(s.pid is None for s in routed.servers)
    one, two = shared.reuse, routed.reuse
    assert one is not None and two is not None
    print(f"one server: {one.reused_tokens} reused / {one.evaluated_tokens} evaluated; "
          f"routed: {two.reused_tokens} / {two.evaluated_tokens}")
    assert two.completions == one.completions == 6
    # Each family's ~600-token prefix is evaluated once on its own server, then reused 2 more times.
    assert two.reused_tokens > 4 * two.evaluated_tokens / 3
    assert one.reused_tokens < one.evaluated_tokens / 5  # the shared slot keeps losing its prefix


@pytest.mark.embedded
@pytest.mark.slow
@needs_llama_cpp
def test_with_prefix_reuse_off_every_prompt_is_evaluated_whole_and_answered_alike() -> None:
    greedy = Decoding(temperature=0.0, top_p=1.0, max_tokens=8, stop=("\n\n",))
    asked = [f"{A}Question {i}: which river runs through valley {i * 7}?\nAnswer:" for i in range(2)]
    asked.append(asked[0])  # the very same prompt again: with reuse off, still evaluated whole
    answers: dict[bool, list[str]] = {}
    logs: dict[bool, PrefixReuse] = {}
    for reuse in (True, False):
        settings = Settings(llm_base_url=None, llm_model=None, embedded_prefix_reuse=reuse)
        with EmbeddedServers(settings, 1) as server:
            client = build_client(settings, base_url=server.servers[0].base_url)
            answers[reuse] = [client.complete([p], greedy, Stage.CLASSIFY).choices[0].text for p in asked]
        assert server.reuse is not None
        logs[reuse] = server.reuse
    assert logs[False].reused_tokens == 0 and logs[False].evaluated_tokens > len(asked) * 500
    assert logs[True].reused_tokens > 2 * 500  # the ~600-token prefix, evaluated once
    # What the bench compares is the same work: a prefix-reused answer is the whole prompt's answer.
    assert answers[True] == answers[False]
    assert all(answers[True])


def test_the_generation_servers_keep_no_logits_and_the_perplexity_one_does(tmp_path: Path) -> None:
    plain = embedded.EmbeddedServer(Settings(), directory=tmp_path)
    perplexity = embedded.EmbeddedServer(Settings(), directory=tmp_path, logprobs=True)
    assert plain.server_args(tmp_path / "m.gguf", 1)[-2:] == ["--logits_all", "false"]
    assert perplexity.server_args(tmp_path / "m.gguf", 1)[-2:] == ["--logits_all", "true"]


@pytest.mark.embedded
@needs_llama_cpp
@pytest.mark.usefixtures("bogus_model")
def test_when_one_server_fails_to_start_every_server_is_stopped() -> None:
    servers = EmbeddedServers(Settings(embedded_startup_timeout_s=120), 3)
    with pytest.raises(EmbeddedModelError, match="exited with code"), servers:
        pass
    assert all(s.pid is None for s in servers.servers)
