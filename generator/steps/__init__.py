"""Units of work shared by the in-process runner and the Celery tasks.

Each step takes ids, calls the LLM outside any transaction, then writes its results in one
transaction. Steps are idempotent by database keys and status guards: running one twice
(a redelivered message, a resumed run) writes nothing twice.

Classification, instances and tagging take a batch of tasks of one round and send their prompts
``Settings.prompts_per_request`` at a time in one completions request, as the paper's code
did (``request_batch_size``): one request, one transaction and, in the fleet, one message for
the whole batch. A batch of one is the unbatched case.
"""

from generator.steps.classification import classify
from generator.steps.context import StepContext, batch_size, chunked
from generator.steps.generation import generate
from generator.steps.instances import make_instances
from generator.steps.tagging import tag_batch

__all__ = ["StepContext", "batch_size", "chunked", "classify", "generate", "make_instances", "tag_batch"]
