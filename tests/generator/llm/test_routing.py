"""Requests of one prompt family always reach the same backend; families are dealt round-robin."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from generator.llm.routing import PrefixAffinityClient, family_of
from generator.records import LLMCall, Stage
from generator.selfinstruct.params import Decoding

DECODING = Decoding(temperature=0.0, top_p=1.0, max_tokens=3)
OUTPUT_FIRST = "Below are classification tasks, each with its class labels.\n\nTask: {}"
INPUT_FIRST = "Below are tasks, each followed by worked examples.\n\nTask: {}"
CLASSIFY = "Each task below is marked as classification or not.\n\nTask: {}\nIs it classification?"


class Recorder:
    model, api, max_prompts_per_request = "m", "completions", 1

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[str] = []

    def complete(self, prompts: Sequence[str], decoding: Decoding, stage: Stage) -> LLMCall:
        self.seen.append(prompts[0])
        return LLMCall(stage=stage, model=self.name, api=self.api, prompts=tuple(prompts))


def _sent(backends: list[Recorder]) -> dict[str, list[str]]:
    return {b.name: b.seen for b in backends}


def test_each_family_sticks_to_the_backend_it_was_first_given() -> None:
    backends = [Recorder(f"s{i}") for i in range(4)]
    client = PrefixAffinityClient(backends)
    for task in ("a", "b", "c"):
        client.complete([CLASSIFY.format(task)], DECODING, Stage.CLASSIFY)
        client.complete([OUTPUT_FIRST.format(task)], DECODING, Stage.INSTANCES)
        client.complete([INPUT_FIRST.format(task)], DECODING, Stage.INSTANCES)
        client.complete([f"Here is a numbered list of tasks.\n1. {task}"], DECODING, Stage.GENERATE)
    sent = _sent(backends)
    assert sent["s0"] == [CLASSIFY.format(t) for t in "abc"]
    assert sent["s1"] == [OUTPUT_FIRST.format(t) for t in "abc"]  # the two instance templates
    assert sent["s2"] == [INPUT_FIRST.format(t) for t in "abc"]   # are two families
    assert len(sent["s3"]) == 3


def test_more_families_than_backends_wrap_around() -> None:
    backends = [Recorder("s0"), Recorder("s1")]
    client = PrefixAffinityClient(backends)
    asked = [(Stage.CLASSIFY, "A"), (Stage.INSTANCES, "B"), (Stage.GENERATE, "C"), (Stage.CLASSIFY, "A")]
    for stage, header in asked:
        client.complete([f"{header}\nrest"], DECODING, stage)
    assert [len(b.seen) for b in backends] == [3, 1]


def test_the_same_header_in_another_stage_is_another_family() -> None:
    assert family_of(["Header\nx"], Stage.TAG) != family_of(["Header\nx"], Stage.GENERATE)
    assert family_of(["Header\nx"], Stage.TAG) == family_of(["Header\ny", "Other\nz"], Stage.TAG)
    assert family_of([], Stage.TAG) == ("tag", "")


def test_it_speaks_for_its_backends_and_needs_one() -> None:
    client = PrefixAffinityClient([Recorder("s0")])
    assert (client.model, client.api, client.max_prompts_per_request) == ("m", "completions", 1)
    assert client.complete(["x"], DECODING, Stage.GENERATE).model == "s0"
    with pytest.raises(ValueError, match="at least one backend"):
        PrefixAffinityClient([])
