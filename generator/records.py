"""Typed records passed between stages. Plain frozen dataclasses: no database, no Celery."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Stage(StrEnum):
    """Where in the pipeline something happened; stored on requests and rejections."""

    GENERATE = "generate"
    FILTER = "filter"
    NOVELTY = "novelty"
    CLASSIFY = "classify"
    INSTANCES = "instances"
    TAG = "tag"


class Reason(StrEnum):
    """Why a candidate (instruction, answer or instance) was rejected. Stored as data, counted per round."""

    # instruction generation / parsing
    TRUNCATED = "truncated"              # last list item cut by finish_reason == "length"
    UNPARSEABLE = "unparseable"          # the completion held no numbered item at all
    LLM_ERROR = "llm_error"              # the request failed after all retries
    # instruction filters (§2.2)
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    BLACKLISTED = "blacklisted"
    WRITE_A_PROGRAM = "write_a_program"
    PUNCTUATION_START = "punctuation_start"
    NON_ASCII_START = "non_ascii_start"
    CONTROL_CHARACTERS = "control_characters"  # NUL or other control characters (not \n, \t)
    # novelty
    TOO_SIMILAR = "too_similar"
    # classification
    UNKNOWN_CLASS = "unknown_classification"
    # instances
    INPUT_EQUALS_OUTPUT = "input_equals_output"
    EMPTY_OUTPUT = "empty_output"
    ENDS_WITH_COLON = "ends_with_colon"
    CONFLICTING_OUTPUTS = "conflicting_outputs"
    DUPLICATE_INSTANCE = "duplicate_instance"
    OVER_LIMIT = "over_limit"
    NO_INSTANCES = "no_instances"


@dataclass(frozen=True, slots=True)
class Instance:
    """One input/output example of a task; ``input`` is "" when the task needs none."""

    input: str
    output: str


@dataclass(frozen=True, slots=True)
class SeedTask:
    """A task in the original self-instruct ``seed_tasks.jsonl`` schema."""

    id: str
    name: str
    instruction: str
    instances: tuple[Instance, ...]
    is_classification: bool


@dataclass(frozen=True, slots=True)
class Rejection:
    """A dropped candidate: what, where, why, and (for novelty) the nearest pool match."""

    stage: Stage
    reason: Reason
    text: str
    detail: str = ""
    nearest_text: str | None = None
    nearest_score: float | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    """One completion returned for one prompt."""

    text: str
    finish_reason: str | None


@dataclass(frozen=True, slots=True)
class LLMCall:
    """One request to the endpoint and what came back (or the error): stored as an llm_requests row."""

    stage: Stage
    model: str
    api: str
    prompts: tuple[str, ...]
    choices: tuple[Choice, ...] = ()
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # Prompt tokens served from the endpoint's prompt cache (``usage.prompt_tokens_details.cached_tokens``);
    # None when the endpoint does not report it.
    cached_tokens: int | None = None
    latency_s: float = 0.0
    error: str | None = None
    attempts: int = 1
    # True when ``error`` is transient (429/5xx/timeout/garbage after all retries): retrying later may
    # succeed. False on success and for permanent rejections (400/401/403/404...).
    transient: bool = False


@dataclass(frozen=True, slots=True)
class ParsedInstructions:
    """The instructions parsed out of one completion, plus what was dropped while parsing."""

    instructions: tuple[str, ...]
    rejections: tuple[Rejection, ...] = ()


@dataclass(frozen=True, slots=True)
class InstanceResult:
    """Kept instances for one task, plus every dropped instance with its reason."""

    instances: tuple[Instance, ...]
    rejections: tuple[Rejection, ...] = field(default=())
