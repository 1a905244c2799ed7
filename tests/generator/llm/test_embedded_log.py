"""The embedded server's log read for prefix reuse: hits, reused and evaluated tokens, RAM cache, timings."""

from __future__ import annotations

from generator.llm.embedded_log import PrefixReuse, prefix_reuse

LOG = """\
llama_perf_context_print: prompt eval time =    2636.99 ms /   646 tokens (    4.08 ms per token)
llama_perf_context_print:        eval time =      29.97 ms /     1 runs   (   29.97 ms per token)
Llama._create_completion: cache miss
Llama.generate: 637 prefix-match hit, remaining 10 prompt tokens to eval
llama_perf_context_print: prompt eval time =     897.69 ms /    10 tokens (   89.77 ms per token)
llama_perf_context_print:        eval time =     701.94 ms /    42 runs   (   16.71 ms per token)
Llama._create_completion: cache hit
"""


def test_a_log_sums_its_prefix_hits_evaluated_tokens_cache_hits_and_timings() -> None:
    assert prefix_reuse(LOG) == PrefixReuse(
        completions=2, prefix_hits=1, reused_tokens=637, evaluated_tokens=656, ram_cache_hits=1,
        ram_cache_misses=1, prompt_eval_ms=2636.99 + 897.69, generation_ms=29.97 + 701.94,
        generated_tokens=43)
    assert round(prefix_reuse(LOG).reused_share or 0, 3) == round(637 / (637 + 656), 3)


def test_an_empty_log_reuses_nothing_and_has_no_share() -> None:
    assert prefix_reuse("") == PrefixReuse() and PrefixReuse().reused_share is None
