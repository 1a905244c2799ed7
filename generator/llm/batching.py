"""Asking an LLM about a batch of items: the one ask-and-retry loop (the batch-step driver and the
InsTag tagger both run it, so there is one batching skeleton).

Prompts go ``size`` per request. An item whose reply was not usable (``read`` gave None) is asked
again, together with the others like it, ``retries`` times at most. A request that fails gives its
items a reply carrying the error (``transient`` when retrying later may help); they are not asked
again in this run. With a :class:`Grouping` (``--classify-per-prompt K``), the first attempt puts
``per_prompt`` items in one prompt; what stays unusable is asked again one item per prompt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from generator.llm.client import LLMClient
from generator.records import LLMCall, Stage
from generator.selfinstruct.params import Decoding

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Reply:
    """One reply to an item's prompt: its text and finish reason, what ``read`` made of it, or the
    request's error (then ``text`` is empty)."""

    text: str
    finish_reason: str | None = None
    answer: object | None = None
    error: str | None = None


@dataclass
class Asked(Generic[T]):
    """An item and every reply it got; ``request``: index (in the calls made) of its last reply's request."""

    item: T
    replies: list[Reply] = field(default_factory=list)
    request: int = -1
    transient: bool = False     # its last request failed transiently: retrying later may help

    @property
    def usable(self) -> bool:
        last = self.replies[-1] if self.replies else None
        return last is not None and (last.answer is not None or last.error is not None)


@dataclass(frozen=True, slots=True)
class Grouping(Generic[T]):
    """Several items judged in one prompt: how many, the prompt, how its reply splits into answers."""

    per_prompt: int
    prompt: Callable[[Sequence[T]], str]
    read: Callable[[Sequence[T], str, str | None], list[object | None]]
    decoding: Decoding


@dataclass(frozen=True, slots=True)
class Asking(Generic[T]):
    """How to ask about items: their prompt, how a reply is read, decoding, stage, batch size, retries."""

    prompt: Callable[[T], str]
    read: Callable[[T, str, str | None], object | None]
    decoding: Decoding
    stage: Stage
    size: int = 1
    retries: int = 0
    grouping: Grouping[T] | None = None  # used on the first attempt only


Calls = list[tuple[LLMCall, list[int]]]  # each request and the positions (in ``asked``) of its items


def ask_all(client: LLMClient, asking: Asking[T], asked: Sequence[Asked[T]]) -> Calls:
    """Send the prompts of ``asked`` in batches, then again for the unusable replies while retries last."""
    calls: Calls = []
    todo = list(range(len(asked)))
    size = max(1, asking.size)
    for attempt in range(1 + asking.retries):
        first = attempt == 0 and asking.grouping is not None and asking.grouping.per_prompt > 1
        group = asking.grouping if first else None
        step = size * (group.per_prompt if group else 1)
        for start in range(0, len(todo), step):
            batch = todo[start:start + step]
            items = [asked[i] for i in batch]
            call = _ask(client, asking, items, group)
            calls.append((call, batch))
            for i in batch:
                asked[i].request = len(calls) - 1
        todo = [i for i in todo if not asked[i].usable and not asked[i].transient]
        if not todo:
            break
    return calls


def _ask(client: LLMClient, asking: Asking[T], batch: list[Asked[T]],
         group: Grouping[T] | None = None) -> LLMCall:
    """One request for ``batch``: one prompt per item, or with ``group`` one per ``group.per_prompt`` items
    (each item then gets its prompt's reply and its own answer)."""
    per = group.per_prompt if group else 1
    groups = [batch[i:i + per] for i in range(0, len(batch), per)]
    prompts = [group.prompt([a.item for a in g]) if group else asking.prompt(g[0].item) for g in groups]
    call = client.complete(prompts, group.decoding if group else asking.decoding, asking.stage)
    if call.error is not None:
        for a in batch:
            a.replies.append(Reply("", None, None, call.error))
            a.transient = call.transient
        return call
    for g, choice in zip(groups, call.choices, strict=True):
        text, reason = choice.text, choice.finish_reason
        if group:
            answers = group.read([a.item for a in g], text, reason)
        else:
            answers = [asking.read(g[0].item, text, reason)]
        for a, answer in zip(g, answers, strict=True):
            a.replies.append(Reply(text, reason, answer))
    return call
