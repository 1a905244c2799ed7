"""Algorithm knobs, frozen, with the papers' values as defaults.

Sources: Wang et al., 2022, "Self-Instruct: Aligning Language Models with
Self-Generated Instructions" (§2.2 and Appendix A.1 for the pipeline and decoding
settings of the released code); Lu et al., 2023 (InsTag) and Cao et al., 2023
(InstructMining) for the analysis knobs added by later issues.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

BLACKLIST: tuple[str, ...] = (
    # §2.2 "Filtering and Postprocessing": keywords a text-only model cannot act on.
    "image",
    "images",
    "graph",
    "graphs",
    "picture",
    "pictures",
    "file",
    "files",
    "map",
    "maps",
    "draw",
    "plot",
    "go to",
)


@dataclass(frozen=True, slots=True)
class Decoding:
    """Sampling settings for one LLM call."""

    temperature: float
    top_p: float
    max_tokens: int
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    stop: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GenerationParams:
    """Knobs of one Self-Instruct pool; stored with the pool so a round is reproducible."""

    # §2.2 "Instruction Generation": 8 in-context instructions, 6 human-written + 2 machine-made.
    seed_instructions_per_prompt: int = 6
    machine_instructions_per_prompt: int = 2
    # App. A.1 / released code: numbered list, ask up to item 16, stop before it.
    max_list_items: int = 16
    instruction_decoding: Decoding = field(
        default_factory=lambda: Decoding(
            temperature=0.7,
            top_p=0.5,
            max_tokens=1024,
            presence_penalty=2.0,
            frequency_penalty=0.0,
            stop=("\n\n", "\n16", "16.", "16 ."),
        )
    )
    # §2.2 "Filtering": keep instructions with more than 3 and at most 150 words.
    min_words_exclusive: int = 3
    max_words: int = 150
    blacklist: tuple[str, ...] = BLACKLIST
    # §2.2 "Filtering": ROUGE-L with every pool instruction must be below 0.7.
    rouge_threshold: float = 0.7
    # Released code lower-cased everything after the first letter; off by default (keeps acronyms).
    lowercase_compat: bool = False
    # §2.2 "Classification Task Identification": greedy Yes/No; one retry on an unparseable answer.
    classification_decoding: Decoding = field(
        default_factory=lambda: Decoding(temperature=0.0, top_p=0.0, max_tokens=3, stop=("\n", "Task:"))
    )
    classification_retries: int = 1
    # §2.2 "Instance Generation": greedy decoding, up to 5 instances kept per task.
    instance_decoding: Decoding = field(
        default_factory=lambda: Decoding(
            temperature=0.0, top_p=0.0, max_tokens=350, stop=("Example 6", "Task:", "\n\n\n")
        )
    )
    max_instances_per_task: int = 5

    def __post_init__(self) -> None:
        if not 0.0 < self.rouge_threshold <= 1.0:
            raise ValueError("rouge_threshold must be in (0, 1]")
        if self.seed_instructions_per_prompt < 1 or self.machine_instructions_per_prompt < 0:
            raise ValueError("in-context counts must be >= 1 seed and >= 0 machine")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists), as stored on the pool row."""
        data: dict[str, Any] = asdict(self)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GenerationParams:
        """Rebuild from :meth:`to_json` output; unknown keys are ignored, missing ones take defaults."""
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                continue
            if key.endswith("_decoding") and isinstance(value, dict):
                decoding: dict[str, Any] = {k: tuple(v) if k == "stop" else v for k, v in value.items()}
                value = Decoding(**decoding)
            elif isinstance(value, list):
                value = tuple(value)
            values[key] = value
        return cls(**values)
