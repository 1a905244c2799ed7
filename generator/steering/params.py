"""Steering knobs, frozen. No paper sets them: the defaults are this project's, each says why.

InsTag (Lu et al., 2023, §3) measures diversity as the number of distinct normalized tags a
pool covers; the weights below favour what that measure finds rare. Self-Instruct's prompt
structure (Wang et al., 2022, §2.2: 6 human-written + 2 machine-made in-context examples) is
kept by every strategy: only *which* examples (or one header line) change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any

__all__ = ["SteeringParams", "Strategy"]


class Strategy(StrEnum):
    """What a steered prompt changes: nothing, its examples, or its header."""

    NONE = "none"                    # the plain loop: uniform examples, today's prompt, same draws
    RARE_EXAMPLES = "rare-examples"  # examples drawn with weights favouring tasks with rare tags
    TAG_HINTS = "tag-hints"          # uniform examples plus a header line naming under-covered tags


@dataclass(frozen=True, slots=True)
class SteeringParams:
    """Knobs of one steered round; stored with the round so its requests can be explained."""

    strategy: Strategy = Strategy.NONE
    # Weight of an example task = mean over its tags of 1 / count**beta. beta = 1 is inverse
    # frequency (a tag seen once weighs 10x a tag seen 10 times); 0 turns steering off.
    beta: float = 1.0
    # rare-examples draws the machine examples by weight; also the seed examples when True.
    # Off by default: the seeds are the human-written anchor of the paper's 6 + 2 prompt.
    steer_seeds: bool = False
    # tag-hints names this many tags per prompt: enough to point somewhere, short enough to
    # stay one header sentence that a small base model still reads as a header.
    hint_tags: int = 3
    # tag-hints draws its tags among the rarest ``hint_pool`` tags of the pool (by count, then
    # name), by weight 1 / count**beta, so consecutive prompts aim at different rare tags.
    hint_pool: int = 50
    # Tags longer than this (characters) are never named in a hint: a hint is a header line.
    max_hint_tag_chars: int = 40

    def __post_init__(self) -> None:
        object.__setattr__(self, "strategy", Strategy(self.strategy))
        if self.beta < 0:
            raise ValueError("beta must be >= 0")
        if self.hint_tags < 1 or self.hint_pool < self.hint_tags:
            raise ValueError("hint_tags must be >= 1 and hint_pool >= hint_tags")
        if self.max_hint_tag_chars < 1:
            raise ValueError("max_hint_tag_chars must be >= 1")

    @property
    def steered(self) -> bool:
        """Whether this round asks the policy anything (False for ``none``)."""
        return self.strategy is not Strategy.NONE

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict, as stored on the round row."""
        data = asdict(self)
        data["strategy"] = str(self.strategy)
        return data

    @staticmethod
    def round_json(steering: SteeringParams | None) -> dict[str, Any] | None:
        """What ``rounds.steering`` stores: None for the plain loop, so unsteered rounds look as before."""
        return steering.to_json() if steering is not None and steering.steered else None

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> SteeringParams:
        """Rebuild from :meth:`to_json` output (None -> defaults); unknown keys are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})
