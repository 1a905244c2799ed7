"""Coverage-steered generation (issue 14), pure: decide what each generation prompt aims at.

From the pool's normalized tag counts (:class:`~generator.steering.coverage.Coverage`), a
strategy picks the in-context examples (``rare-examples``) or adds a hint line naming
under-covered tags (``tag-hints``); ``none`` is the plain Self-Instruct loop. Steering only
changes what is *asked for*: admission (filters, exact ROUGE-L) never sees it.
"""

from generator.steering.coverage import Coverage, CoverageSource, Example
from generator.steering.params import SteeringParams, Strategy
from generator.steering.policy import PromptPlan, example_weights, plan_prompt, weighted_sample

__all__ = [
    "Coverage",
    "CoverageSource",
    "Example",
    "PromptPlan",
    "SteeringParams",
    "Strategy",
    "example_weights",
    "plan_prompt",
    "weighted_sample",
]
