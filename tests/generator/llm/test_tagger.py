"""The LLM tagger: batching, one retry of an unparseable answer, failures kept with their raw text."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from generator.instag.records import ParsedTags, Tag, TagFailure, TagFailureReason
from generator.llm.tagger import LLMTagger
from generator.records import Choice, LLMCall, Stage
from generator.selfinstruct.params import Decoding
from generator.settings import Settings


@dataclass
class ScriptedClient:
    """Answers each prompt with the next scripted text for the query it contains."""

    answers: dict[str, list[str]]
    api: str = "completions"
    model: str = "scripted"
    max_prompts_per_request: int = 20
    sent: list[tuple[list[str], Decoding, Stage]] = field(default_factory=list)
    error: str | None = None

    def complete(self, prompts: Sequence[str], decoding: Decoding, stage: Stage) -> LLMCall:
        self.sent.append((list(prompts), decoding, stage))
        if self.error is not None:
            return LLMCall(stage, self.model, self.api, tuple(prompts), error=self.error, transient=True)
        choices = []
        for prompt in prompts:
            query = next(q for q in self.answers if q in prompt)
            choices.append(Choice(self.answers[query].pop(0), "stop"))
        return LLMCall(stage, self.model, self.api, tuple(prompts), tuple(choices))


def test_queries_are_batched_and_an_unparseable_answer_is_asked_once_more() -> None:
    client = ScriptedClient({
        "Write a haiku.": [' [{"tag": "poetry", "explanation": "A haiku."}]'],
        "Sum 2 and 3.": [" I think math.", ' [{"tag": "arithmetic", "explanation": "A sum."}]'],
        "Say hi.": [" nope", " still no"],
    })
    run = LLMTagger(client, batch_size=3).tag(["Write a haiku.", "Sum 2 and 3.", "Say hi."])
    assert [len(prompts) for prompts, _, _ in client.sent] == [3, 2]
    assert all(stage is Stage.TAG for _, _, stage in client.sent)
    assert client.sent[0][1].stop  # a base model stops before writing the next example
    first, second, third = run.results
    assert first.outcome == ParsedTags((Tag("poetry", "A haiku."),)) and first.attempts == 1
    assert second.outcome == ParsedTags((Tag("arithmetic", "A sum."),)) and second.attempts == 2
    assert third.outcome == TagFailure(TagFailureReason.NOT_JSON, "no JSON list or object in the answer",
                                       " still no")
    assert (third.attempts, third.call_index) == (2, 1)
    assert [indices for _, indices in run.calls] == [(0, 1, 2), (1, 2)]


def test_a_chat_endpoint_gets_the_chat_prompt_one_query_per_request() -> None:
    client = ScriptedClient({"Say hi.": ['```json\n[{"tag": "greeting"}]\n```']}, api="chat",
                            max_prompts_per_request=1)
    run = LLMTagger(client, batch_size=5).tag(["Say hi."])
    assert "User query:\nSay hi." in client.sent[0][0][0]
    assert client.sent[0][1].stop == ()
    assert run.results[0].outcome == ParsedTags((Tag("greeting"),))


def test_an_endpoint_failure_is_a_transient_outcome_not_a_tag_list() -> None:
    client = ScriptedClient({"Say hi.": []}, error="HTTP 503")
    result = LLMTagger(client).tag(["Say hi."]).results[0]
    assert result.transient and isinstance(result.outcome, TagFailure)
    assert result.outcome.reason is TagFailureReason.LLM_ERROR


needs_llama_cpp = pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                                     reason="llama-cpp-python is not installed: pip install -e '.[embedded]'")


@pytest.mark.embedded
@pytest.mark.slow
@needs_llama_cpp
def test_the_embedded_model_tags_for_real() -> None:
    from generator.llm.embedded import EmbeddedServer
    from generator.llm.endpoint import build_client

    settings = Settings(llm_base_url=None, llm_model=None, embedded_startup_timeout_s=180)
    queries = ["Write a short poem about the sea.", "Translate 'good morning' into French.",
               "Is this review positive or negative?\n\nThe food was cold and late."]
    with EmbeddedServer(settings) as server:
        client = build_client(settings, base_url=server.base_url)
        run = LLMTagger(client, batch_size=3).tag(queries)
    assert all(call.error is None for call, _ in run.calls), [c.error for c, _ in run.calls]
    assert len(run.results) == len(queries)
    for result in run.results:
        # The small base model may not write JSON: then the raw answer is kept, never zero tags.
        outcome = result.outcome
        assert (isinstance(outcome, ParsedTags) and outcome.tags) or (
            isinstance(outcome, TagFailure) and outcome.reason in (TagFailureReason.NOT_JSON,
                                                                   TagFailureReason.NO_TAGS))
        print(result.attempts, outcome)
