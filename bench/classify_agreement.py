"""Multi-task classification against single-task answers on one endpoint (run by bench/tokens.py).

The first ``n`` seed instructions are classified twice on the same endpoint: one task per prompt
(the paper's few-shot Yes/No prompt) and ``k`` per prompt (the same few-shot block, then the tasks
numbered, a JSON answer). Printed: how often the two layouts agree on the tasks both answered, how
many each left unanswered (a grouped task left unanswered is what the round would ask again on its
own), each layout's accuracy against the seeds' own ``is_classification`` labels, and the prompt +
completion tokens each spent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from generator.llm.client import LLMClient
from generator.llm.ratelimit import throttled_client
from generator.records import Stage
from generator.selfinstruct import classification
from generator.selfinstruct.params import GenerationParams
from generator.selfinstruct.seeds import load_seed_tasks
from generator.settings import Settings
from generator.steps.classification import Classification


@contextlib.contextmanager
def _client(settings: Settings) -> Iterator[LLMClient]:
    if settings.embedded:
        from generator.llm.embedded import EmbeddedServer

        with EmbeddedServer(settings) as server:
            yield throttled_client(settings, base_url=server.base_url, model=server.model)
    else:
        yield throttled_client(settings)


def _single(client: LLMClient, texts: list[str], params: GenerationParams) -> tuple[list[bool | None], int]:
    answers: list[bool | None] = []
    tokens = 0
    for text in texts:
        call = client.complete([classification.render_classification_prompt(text)],
                               params.classification_decoding, Stage.CLASSIFY)
        tokens += call.prompt_tokens + call.completion_tokens
        text = "" if call.error else call.choices[0].text
        answers.append(None if call.error else classification.parse_classification_answer(text))
    return answers, tokens


def _grouped(client: LLMClient, texts: list[str], k: int,
             params: GenerationParams) -> tuple[list[bool | None], int]:
    answers: list[bool | None] = []
    tokens = 0
    for start in range(0, len(texts), k):
        group = texts[start:start + k]
        call = client.complete([classification.render_multi_prompt(group)],
                               Classification(k).group_decoding(params, len(group)), Stage.CLASSIFY)
        tokens += call.prompt_tokens + call.completion_tokens
        answers += [None] * len(group) if call.error else classification.parse_multi_answer(
            call.choices[0].text, len(group))
    return answers, tokens


def _accuracy(answers: list[bool | None], labels: list[bool]) -> str:
    right = sum(1 for a, y in zip(answers, labels, strict=True) if a is y)
    return f"{right}/{len(labels)} ({100 * right / len(labels):.0f} %)"


def measure(settings: Settings, k: int, n: int) -> None:
    """Print the agreement of ``k`` tasks per prompt with one task per prompt over ``n`` seed tasks."""
    seeds = load_seed_tasks(settings.seeds_path)[:n]
    texts, labels = [s.instruction for s in seeds], [bool(s.is_classification) for s in seeds]
    params = GenerationParams()
    with _client(settings) as client:
        single, single_tokens = _single(client, texts, params)
        grouped, grouped_tokens = _grouped(client, texts, k, params)
        api = client.api
    both = [(a, b) for a, b in zip(single, grouped, strict=True) if a is not None and b is not None]
    agree = sum(1 for a, b in both if a is b)
    where = "embedded default" if settings.embedded else f"{settings.llm_base_url} ({settings.llm_model})"
    print(f"classify-per-prompt agreement on {where} (api {api}), {len(texts)} seed tasks, K = {k}")
    print(f"  agreement: {agree}/{len(both)} tasks answered by both"
          f" ({100 * agree / len(both):.1f} %)" if both else "  agreement: no task answered by both")
    print(f"  unanswered: single {single.count(None)}, grouped {grouped.count(None)} (asked again per task)")
    print(f"  accuracy vs the seeds' labels: single {_accuracy(single, labels)}, "
          f"grouped {_accuracy(grouped, labels)}")
    saved = 100 * (1 - grouped_tokens / single_tokens) if single_tokens else float("nan")
    print(f"  tokens: single {single_tokens}, grouped {grouped_tokens} ({saved:.0f} % saved)")
