"""Requests of one prompt family always reach the same backend; generation spreads over the backends
no family holds, and pinning always leaves it one."""

from __future__ import annotations

import threading
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


def test_more_families_than_backends_share_the_pinned_ones_and_generation_keeps_its_own() -> None:
    backends = [Recorder("s0"), Recorder("s1"), Recorder("s2")]
    client = PrefixAffinityClient(backends)
    asked = [(Stage.CLASSIFY, "A"), (Stage.INSTANCES, "B"), (Stage.INSTANCES, "C"), (Stage.TAG, "D"),
             (Stage.GENERATE, "E"), (Stage.CLASSIFY, "A")]
    for stage, header in asked:
        client.complete([f"{header}\nrest"], DECODING, stage)
    # A on s0, B on s1; C and D find only the last free backend, so they share s0 and s1.
    assert [b.seen for b in backends] == [
        ["A\nrest", "C\nrest", "A\nrest"], ["B\nrest", "D\nrest"], ["E\nrest"]]


def test_one_backend_serves_everything() -> None:
    backend = Recorder("s0")
    client = PrefixAffinityClient([backend])
    for stage, header in ((Stage.CLASSIFY, "A"), (Stage.GENERATE, "B"), (Stage.INSTANCES, "C")):
        client.complete([f"{header}\nrest"], DECODING, stage)
    assert len(backend.seen) == 3


class Holding(Recorder):
    """A backend whose requests wait until released, so that several are in flight at once."""

    def __init__(self, name: str, release: threading.Event) -> None:
        super().__init__(name)
        self.release = release
        self.arrived = threading.Semaphore(0)

    def complete(self, prompts: Sequence[str], decoding: Decoding, stage: Stage) -> LLMCall:
        call = super().complete(prompts, decoding, stage)
        self.arrived.release()
        self.release.wait(timeout=10)
        return call


def test_generate_requests_in_flight_run_side_by_side_on_the_unpinned_backends() -> None:
    release = threading.Event()
    backends = [Holding(f"s{i}", release) for i in range(5)]
    client = PrefixAffinityClient(backends)
    release.set()  # the three pinned families first, one at a time
    for prompt in (CLASSIFY.format("a"), OUTPUT_FIRST.format("a"), INPUT_FIRST.format("a")):
        client.complete([prompt], DECODING, Stage.INSTANCES if "Below" in prompt else Stage.CLASSIFY)
    release.clear()
    asked = [threading.Thread(target=client.complete, args=([f"Tasks:\n1. {i}"], DECODING, Stage.GENERATE))
             for i in range(3)]
    for thread in asked[:2]:
        thread.start()
    for backend in backends[3:]:  # one each on the two free backends, neither queued behind the other
        assert backend.arrived.acquire(timeout=5)
    asked[2].start()  # both busy: the third queues on a free backend (the first), never on a pinned one
    assert backends[3].arrived.acquire(timeout=5)
    release.set()
    for thread in asked:
        thread.join(timeout=5)
    assert [len(b.seen) for b in backends[:3]] == [1, 1, 1]
    assert [len(b.seen) for b in backends[3:]] == [2, 1]


def test_a_family_is_pinned_to_an_idle_backend_not_to_one_busy_generating() -> None:
    release = threading.Event()
    backends = [Holding(f"s{i}", release) for i in range(3)]
    client = PrefixAffinityClient(backends)
    generating = threading.Thread(target=client.complete, args=(["Tasks:\n1. x"], DECODING, Stage.GENERATE))
    generating.start()
    assert backends[0].arrived.acquire(timeout=5)
    assert client.backend_for([CLASSIFY.format("a")], Stage.CLASSIFY) == 1
    assert client.backend_for(["Tasks:\n1. y"], Stage.GENERATE) == 2  # s0 busy, s1 pinned
    release.set()
    generating.join(timeout=5)
    assert client.backend_for(["Tasks:\n1. z"], Stage.GENERATE) == 0


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
