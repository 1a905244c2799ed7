"""Prompt -> completion responders for the scripted LLM double (``tests/support/llm_double.py``).

:class:`SelfInstructResponder` plays a base model that understands this project's four
prompts. It recognises the stage by the marker constants the prompt modules export and
answers in each prompt's format, so its answers parse with the real parsers:

* instruction prompt -> the list continued from the prompt's last number with about five
  new instructions (6-20 words of random vocabulary, so mostly novel); each item is
  instead, with probability ``near_duplicate_rate``, an in-context item plus three words
  (ROUGE-L >= 0.7, so ``TOO_SIMILAR``) or, with probability ``blacklisted_rate``, a
  random item containing "image" (``BLACKLISTED``);
* classification prompt -> `` Yes`` or `` No``, fixed by a hash of the instruction; a multi-task
  classification prompt -> a JSON object of the same answers by task number, ``multi_flip_rate``
  of them flipped (by a hash of the instruction);
* instance prompts -> 2-3 example blocks (input-first, with or without inputs) or
  ``Class label:`` / ``Input:`` blocks (output-first), fixed by a hash of the instruction.

With probability ``garbage_rate`` any answer is punctuation soup: no classification
answer, no instance, and for the instruction stage one item that the filters reject.
An unrecognised prompt raises ``ValueError``: a test sending the wrong prompt should
fail loudly. Calls are thread-safe (the double serves many threads).

The module-level :data:`self_instruct` instance is what ``--responder self_instruct``
loads (the double calls the named attribute with the prompt).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading

from generator.instag.prompts import TAG_MARKERS
from generator.selfinstruct import classification, instances, instructions
from generator.selfinstruct.params import GenerationParams

__all__ = ["SelfInstructResponder", "self_instruct"]

_VERB_TEXT = (
    "Describe Explain Summarize Compare Suggest Create Classify Translate Rewrite Identify Plan "
    "Outline Evaluate Recommend Estimate Name Rank Compose List Design Predict Analyze Propose "
    "Argue Contrast Invent Convert Simplify Critique Organize"
)
VERBS = tuple(_VERB_TEXT.split())
_WORD_TEXT = (
    "the a an of for with about between under across during before after without within "
    "quiet amber curious distant gentle hollow bright narrow ancient rapid silent modest "
    "harbor lantern festival garden river village teacher budget recipe orchestra glacier "
    "meadow market bridge tunnel library museum castle island desert forest valley canyon "
    "volcano comet planet robot engine battery bicycle tractor kitchen bakery pottery violin "
    "poetry novel essay letter speech lesson contract invoice schedule itinerary journey "
    "holiday habit hobby sport tennis chess puzzle riddle proverb legend myth rumor opinion "
    "argument theory experiment molecule protein vitamin climate weather storm season winter "
    "summer harvest orchard vineyard cheese bread coffee tea soup salad dessert spice honey "
    "family friend neighbor student customer manager doctor farmer sailor pilot artist "
    "scientist historian engineer traveler beginner expert child parent committee startup "
    "factory warehouse airport station hospital school campus office studio theater stadium "
    "simple clever ordinary unusual practical formal casual polite honest brief detailed "
    "careful friendly seasonal local global urban rural digital manual weekly daily "
    "several three five many few every each other similar different"
)
WORDS = tuple(_WORD_TEXT.split())
LABEL_SETS = (
    ("Positive", "Negative"), ("True", "False"), ("Yes", "No"), ("Spam", "Not spam"),
    ("Formal", "Informal", "Neutral"), ("Fact", "Opinion"),
)
NEAR_DUPLICATE_SUFFIX = "in simple words"
BLACKLISTED_WORD = "image"
GARBAGE = ("~~ ?? ## lorem @@", "... ??? !!!", "#### ~~~~ ////", "%% qq %% zz")

_LIST_ITEM = re.compile(r"^\d+\. (.+)$", re.MULTILINE)
_LAST_NUMBER = re.compile(r"(\d+)\.$")
_CLASSIFY_TASK = re.compile(r"Task: (.*)\n" + re.escape(classification.QUESTION) + r"$")
_INSTANCE_TASK = re.compile(r"Task: (.*)\n$")
_NUMBERED_TASK = re.compile(r"^(\d+)\. (.+)$", re.MULTILINE)


def _digest(text: str) -> int:
    """A stable hash (``hash()`` is salted per process; runs must be reproducible)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


class SelfInstructResponder:
    """A callable ``(prompt) -> completion`` imitating a base model on this project's prompts."""

    def __init__(self, seed: int = 0, garbage_rate: float = 0.0, near_duplicate_rate: float = 0.0,
                 blacklisted_rate: float = 0.0, items_per_answer: int = 5,
                 multi_flip_rate: float = 0.0) -> None:
        self.seed = seed
        self.garbage_rate = garbage_rate
        self.near_duplicate_rate = near_duplicate_rate
        self.blacklisted_rate = blacklisted_rate
        self.items_per_answer = items_per_answer
        self.multi_flip_rate = multi_flip_rate
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def __call__(self, prompt: str) -> str:
        with self._lock:
            if self.garbage_rate and self._rng.random() < self.garbage_rate:
                return " " + self._rng.choice(GARBAGE)
            if any(marker in prompt for marker in TAG_MARKERS):
                return self._tags(prompt)
            if instances.OUTPUT_FIRST_MARKER in prompt:
                return self._output_first(_match(_INSTANCE_TASK, prompt))
            if instances.INPUT_FIRST_MARKER in prompt:
                return self._input_first(_match(_INSTANCE_TASK, prompt))
            if classification.MULTI_MARKER in prompt:
                return self._classify_many(prompt)
            if classification.PROMPT_MARKER in prompt:
                return self._classify(_match(_CLASSIFY_TASK, prompt))
            if instructions.PROMPT_MARKER in prompt:
                return self._continue_list(prompt)
        raise ValueError(f"unrecognised prompt (no known marker): {prompt[:80]!r}")

    def _sentence(self, rng: random.Random, low: int, high: int) -> str:
        words = [rng.choice(VERBS), "the", *(rng.choice(WORDS) for _ in range(rng.randint(low, high) - 2))]
        return " ".join(words) + "."

    def _continue_list(self, prompt: str) -> str:
        next_number = int(_match(_LAST_NUMBER, prompt))
        room = GenerationParams().max_list_items - next_number
        items = [self._sentence(self._rng, 6, 20) for _ in range(max(0, min(self.items_per_answer, room)))]
        in_context = _LIST_ITEM.findall(prompt)
        for index in range(len(items)):
            # One roll per item, so the two rates are exclusive per item and add up.
            roll = self._rng.random()
            if in_context and roll < self.near_duplicate_rate:
                original = self._rng.choice(in_context).rstrip(".")
                items[index] = f"{original} {NEAR_DUPLICATE_SUFFIX}."
            elif roll < self.near_duplicate_rate + self.blacklisted_rate:
                verb, *rest = items[index].split()
                items[index] = " ".join([verb, "the", BLACKLISTED_WORD, "of", *rest])
        # The first item continues the prompt's "9." on its line; the rest are numbered.
        lines = [f" {items[0]}"] + [f"{next_number + i}. {item}" for i, item in enumerate(items[1:], 1)]
        return "\n".join(lines) if items else ""

    def _tags(self, prompt: str) -> str:
        """A JSON tag list drawn from the query's longer words, in varied surface forms (so that the
        rule stage has forms to merge), the same for the same query."""
        query = prompt.rsplit("Query:", 1)[-1].rsplit("User query:", 1)[-1].split("\nTags:")[0]
        words = sorted({w for w in re.findall(r"[a-z]+", query.lower()) if len(w) > 3})
        rng = random.Random(_digest(f"tags:{query.strip()}"))
        picked = rng.sample(words, min(len(words), rng.randint(1, 3))) if words else ["general request"]
        forms = [rng.choice((w, w.title(), f"{w}s")) for w in picked]
        items = [{"tag": f, "explanation": f"The query mentions {f}."} for f in forms]
        return " " + json.dumps(items)

    def _classify(self, instruction: str) -> str:
        return " Yes" if _digest(f"classify:{instruction}") % 3 == 0 else " No"

    def _classify_many(self, prompt: str) -> str:
        """The JSON answer to a multi-task prompt: each task's single-task answer, except that
        ``multi_flip_rate`` of them (by task, deterministic) are flipped -- a model that agrees less."""
        tasks = _NUMBERED_TASK.findall(prompt.split(classification.MULTI_MARKER, 1)[1])
        answers = {}
        for number, instruction in tasks:
            yes = self._classify(instruction) == " Yes"
            if _digest(f"flip:{instruction}") % 1000 < self.multi_flip_rate * 1000:
                yes = not yes
            answers[number] = "Yes" if yes else "No"
        return json.dumps(answers)

    def _task_rng(self, instruction: str) -> random.Random:
        # Instances depend on the task only, so concurrent calls cannot change them.
        return random.Random(_digest(f"{self.seed}:{instruction}"))

    def _input_first(self, instruction: str) -> str:
        rng = self._task_rng(instruction)
        needs_input = rng.random() < 0.6
        blocks = []
        for number in range(1, rng.randint(2, 3) + 1):
            input_line = f"Input: {self._sentence(rng, 4, 12)}\n" if needs_input else ""
            blocks.append(f"Example {number}\n{input_line}Output: {self._sentence(rng, 4, 12)}")
        return "\n\n".join(blocks)

    def _output_first(self, instruction: str) -> str:
        rng = self._task_rng(instruction)
        labels = rng.choice(LABEL_SETS)
        return "\n\n".join(f"Class label: {label}\nInput: {self._sentence(rng, 5, 14)}" for label in labels)


def _match(pattern: re.Pattern[str], prompt: str) -> str:
    found = pattern.search(prompt)
    if found is None:
        raise ValueError(f"prompt does not end as its template does: {prompt[-80:]!r}")
    return found.group(1)


self_instruct = SelfInstructResponder()
