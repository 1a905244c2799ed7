"""The Tagger seam: a small Protocol, and the LLM tagger over any :class:`LLMClient` (chat or completions).

The LLM tagger renders each query with the chat prompt or, for the completions API (base models, the
embedded default), the few-shot prompt; sends ``batch_size`` prompts per request (completions only: a
chat request carries one); parses every answer; asks once more, together, for the answers that did
not parse (:func:`generator.llm.batching.ask_all`, the loop of the batch-step driver too); and
reports each query's outcome (tags or a failure with the raw text) with the request it
came from. Endpoint failures are outcomes too, flagged transient when retrying later may help.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from generator.instag import parsing, prompts
from generator.instag.records import ParsedTags, TagFailure, TagFailureReason, TagOutcome
from generator.llm.batching import Asked, Asking, Reply, ask_all
from generator.llm.client import LLMClient
from generator.records import LLMCall, Stage
from generator.selfinstruct.params import Decoding

# Deterministic, short: a tag list is a few dozen tokens.
TAG_DECODING = Decoding(temperature=0.0, top_p=1.0, max_tokens=256)
TAG_RETRIES = 1
# Answers asked for again (once): the model may well answer in shape the next time.
RETRIED_FAILURES = (TagFailureReason.NOT_JSON, TagFailureReason.NO_TAGS)


@dataclass(frozen=True, slots=True)
class QueryResult:
    """One query's outcome, how many times it was asked, and the index (in ``TaggingRun.calls``) of the
    request its final answer came from; ``transient`` when the endpoint failed in a retryable way."""

    outcome: TagOutcome
    attempts: int
    call_index: int
    transient: bool = False


@dataclass(frozen=True, slots=True)
class TaggingRun:
    """Every request made (with the query indices each asked about) and one result per query."""

    calls: tuple[tuple[LLMCall, tuple[int, ...]], ...]
    results: tuple[QueryResult, ...]


class Tagger(Protocol):
    """Tags queries; the model name is stored with every tag."""

    @property
    def model(self) -> str: ...

    def tag(self, queries: Sequence[str]) -> TaggingRun: ...


@dataclass
class LLMTagger:
    """The InsTag tagger over an LLM endpoint (see the module docstring)."""

    client: LLMClient
    batch_size: int = 1
    decoding: Decoding = field(default=TAG_DECODING)

    @property
    def model(self) -> str:
        return self.client.model

    def render(self, query: str) -> str:
        """The prompt sent for ``query``: chat or few-shot completions, by the client's API."""
        if self.client.api == "chat":
            return prompts.render_chat_prompt(query)
        return prompts.render_completion_prompt(query)

    def request_decoding(self) -> Decoding:
        """The decoding sent: ``decoding``, with the few-shot stop sequence for the completions API."""
        decoding = self.decoding
        if self.client.api != "chat" and not decoding.stop:
            decoding = Decoding(decoding.temperature, decoding.top_p, decoding.max_tokens,
                                stop=prompts.COMPLETION_STOP)
        return decoding

    def tag(self, queries: Sequence[str]) -> TaggingRun:
        size = max(1, min(self.batch_size, self.client.max_prompts_per_request))
        asking = Asking(self.render, read_tags, self.request_decoding(), Stage.TAG, size, TAG_RETRIES)
        asked = [Asked(query) for query in queries]
        calls = ask_all(self.client, asking, asked)
        results = tuple(QueryResult(tag_outcome(a.replies), len(a.replies), a.request, a.transient)
                        for a in asked)
        return TaggingRun(tuple((call, tuple(positions)) for call, positions in calls), results)


def read_tags(query: object, text: str, finish_reason: str | None) -> TagOutcome | None:
    """One answer read: its tags, or None to ask once more (an answer that did not parse)."""
    outcome = parsing.parse_tags(text)
    return None if isinstance(outcome, TagFailure) and outcome.reason in RETRIED_FAILURES else outcome


def tag_outcome(replies: Sequence[Reply]) -> TagOutcome:
    """What a query's replies come to: the last one's tags, or a failure with its raw text (or error)."""
    last = replies[-1]
    if last.error is not None:
        return TagFailure(TagFailureReason.LLM_ERROR, last.error, "")
    if isinstance(last.answer, ParsedTags | TagFailure):
        return last.answer
    return parsing.parse_tags(last.text)  # still unparseable after the retry: the failure, raw text kept
