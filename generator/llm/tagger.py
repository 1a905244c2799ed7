"""The Tagger seam: a small Protocol, and the LLM tagger over any :class:`LLMClient` (chat or completions).

The LLM tagger renders each query with the chat prompt or, for the completions API (base models, the
embedded default), the few-shot prompt; sends ``batch_size`` prompts per request (completions only: a
chat request carries one); parses every answer; asks once more, together, for the answers that did
not parse; and reports each query's outcome (tags or a failure with the raw text) with the request it
came from. Endpoint failures are outcomes too, flagged transient when retrying later may help.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from generator.instag import parsing, prompts
from generator.instag.records import TagFailure, TagFailureReason, TagOutcome
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
class _Pending:
    index: int
    attempts: int = 0
    result: QueryResult | None = None


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
        states = [_Pending(i) for i in range(len(queries))]
        calls: list[tuple[LLMCall, tuple[int, ...]]] = []
        asking = states
        size = max(1, min(self.batch_size, self.client.max_prompts_per_request))
        decoding = self.request_decoding()
        for _ in range(1 + TAG_RETRIES):
            for start in range(0, len(asking), size):
                batch = asking[start:start + size]
                texts = [self.render(queries[s.index]) for s in batch]
                call = self.client.complete(texts, decoding, Stage.TAG)
                calls.append((call, tuple(s.index for s in batch)))
                _settle(batch, call, len(calls) - 1)
            asking = [s for s in asking if s.result is not None and isinstance(s.result.outcome, TagFailure)
                      and s.result.outcome.reason in RETRIED_FAILURES]
            if not asking:
                break
        results = tuple(s.result for s in states if s.result is not None)
        return TaggingRun(tuple(calls), results)


def _settle(batch: Sequence[_Pending], call: LLMCall, call_index: int) -> None:
    """Record each query's outcome from one request."""
    for position, state in enumerate(batch):
        state.attempts += 1
        if call.error is not None:
            failure = TagFailure(TagFailureReason.LLM_ERROR, call.error, "")
            state.result = QueryResult(failure, state.attempts, call_index, transient=call.transient)
        elif position >= len(call.choices):
            failure = TagFailure(TagFailureReason.MISSING, "the batched answer had no choice for it", "")
            state.result = QueryResult(failure, state.attempts, call_index)
        else:
            outcome = parsing.parse_tags(call.choices[position].text)
            state.result = QueryResult(outcome, state.attempts, call_index)
