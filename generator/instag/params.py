"""InsTag knobs, frozen, with the paper's values as defaults and the rule that scales them to small pools.

Source: Lu et al., 2023, "#InsTag: Instruction Tagging for Analyzing Supervised Fine-tuning of Large
Language Models" (ICLR 2024), §2.2 "Tag Normalization" and §3 (Algorithm 1).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

# §2.2: the paper's thresholds were set for its ~300K-query tagged pool (ShareGPT, WizardLM, ...).
PAPER_POOL_SIZE = 300_000


@dataclass(frozen=True, slots=True)
class InsTagParams:
    """Normalization knobs; stored with every vocabulary version so its metrics stay comparable."""

    # §2.2 "Frequency Filtering": drop long-tail tags seen fewer than α times (α = 20 at ~300K queries).
    alpha: int = 20
    # §2.2 "Semantic Aggregation": DBSCAN over tag embeddings, cosine distance ε = 0.05, minimum size 1.
    eps: float = 0.05
    min_samples: int = 1
    # §2.2 "Association Aggregation": FP-Growth, minimum support 40 (tasks), minimum confidence 0.99.
    support: int = 40
    confidence: float = 0.99
    # Parsing caps (not in the paper; see generator.instag.parsing): longer "tags" are sentences, not tags.
    max_tag_chars: int = 60
    max_tag_words: int = 8

    def to_dict(self) -> dict[str, Any]:
        """The knobs as a JSON-ready mapping (stored on the vocabulary row)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InsTagParams:
        """Rebuild stored knobs; unknown keys are ignored so old rows keep loading."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def scaled_params(n_tasks: int, base: InsTagParams | None = None) -> InsTagParams:
    """The paper's thresholds scaled linearly to a pool of ``n_tasks`` tagged tasks.

    alpha   = max(1, round(base.alpha   * n_tasks / 300_000))
    support = max(2, round(base.support * n_tasks / 300_000))

    The support floor is 2: "always co-occur" needs at least two tasks of evidence, otherwise every pair
    of tags that appear once, in the same task, would merge. At 300K tasks both are the paper's values.
    """
    base = base or InsTagParams()
    ratio = max(0, n_tasks) / PAPER_POOL_SIZE
    return replace(
        base,
        alpha=max(1, round(base.alpha * ratio)),
        support=max(2, round(base.support * ratio)),
    )
