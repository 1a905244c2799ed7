"""The optional benepar backend: verb–noun pairs from a constituency parse (Berkeley Neural Parser).

The Self-Instruct analysis names the Berkeley Neural Parser. benepar 0.2 ships no model and none can be
downloaded at run time, so this backend is used only when ``SELFINSTRUCT_BENEPAR_MODEL`` names a
model directory; otherwise the caller gets a clear ConfigError naming that setting (never a silent
fallback that pretends to be benepar). The tree walk is pure and tested on hand-written parses:
the first VP's head verb (its first VB* child) and the head noun of the VP's first NP object.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from generator.analysis.verbnoun import NO_PAIR, VerbNoun, first_clause_window, load_spacy
from generator.errors import ConfigError

BENEPAR_SETTING = "SELFINSTRUCT_BENEPAR_MODEL"
_TOKEN = re.compile(r"\(|\)|[^\s()]+")


@dataclass(frozen=True, slots=True)
class Tree:
    """A constituency node; a preterminal has one leaf, whose index in the sentence is ``leaf``."""

    label: str
    children: tuple[Tree, ...] = ()
    leaf: int | None = None


def parse_bracketed(text: str) -> Tree:
    """A Penn-style bracketed parse, e.g. "(S (VP (VB Write) (NP (DT a) (NN poem))))", as a Tree."""
    tokens = _TOKEN.findall(text)
    position = 0
    leaves = 0

    def node() -> Tree:
        nonlocal position, leaves
        if tokens[position] != "(":
            raise ValueError(f"expected '(' at token {position} of {text!r}")
        label = tokens[position + 1]
        position += 2
        if tokens[position] not in ("(", ")"):  # preterminal: (TAG word)
            position += 2
            leaves += 1
            return Tree(label, leaf=leaves - 1)
        children = []
        while tokens[position] == "(":
            children.append(node())
        position += 1  # ")"
        return Tree(label, tuple(children))

    try:
        return node()
    except IndexError as exc:
        raise ValueError(f"unbalanced parse {text!r}") from exc


def _first(tree: Tree, labels: tuple[str, ...]) -> Tree | None:
    """Breadth-first: the shallowest node whose label starts with one of ``labels``."""
    queue = [tree]
    while queue:
        current = queue.pop(0)
        if current.label.startswith(labels):
            return current
        queue.extend(current.children)
    return None


def _head_noun(np: Tree) -> Tree | None:
    """The last noun among an NP's own children, else the head of its first nested NP."""
    nouns = [c for c in np.children if c.label.startswith("NN") and c.leaf is not None]
    if nouns:
        return nouns[-1]
    inner = next((c for c in np.children if c.label == "NP"), None)
    return _head_noun(inner) if inner is not None else None


def verb_noun_of_tree(tree: Tree, lemmas: Sequence[str]) -> VerbNoun:
    """The first VP's head verb and its object's head noun, as lemmas looked up by leaf index."""
    vp = _first(tree, ("VP",))
    if vp is None:
        return NO_PAIR
    verb = next((c for c in vp.children if c.label.startswith("VB") and c.leaf is not None), None)
    if verb is None or verb.leaf is None:
        return NO_PAIR
    obj = next((c for c in vp.children if c.label == "NP"), None)
    noun = _head_noun(obj) if obj is not None else None
    noun_lemma = lemmas[noun.leaf].lower() if noun is not None and noun.leaf is not None else None
    return VerbNoun(lemmas[verb.leaf].lower(), noun_lemma)


def load_benepar(model_path: str | None, nlp: Any | None = None) -> Any:
    """spaCy with benepar's component on the model at ``model_path``; ConfigError naming the setting."""
    if not model_path:
        raise ConfigError(
            f"the benepar backend needs a benepar model directory: set {BENEPAR_SETTING} "
            "(benepar 0.2 ships none and nothing is downloaded here)"
        )
    if not os.path.isdir(model_path):
        raise ConfigError(f"{BENEPAR_SETTING}={model_path!r} is not a directory holding a benepar model")
    try:
        import benepar  # noqa: F401  (registers the "benepar" spaCy factory)
    except ImportError as exc:
        raise ConfigError(
            f"{BENEPAR_SETTING} is set but benepar is not installed (pip install 'benepar==0.2.0' "
            f"'transformers<5'): {exc}"
        ) from exc
    pipeline = nlp if nlp is not None else load_spacy()
    try:
        pipeline.add_pipe("benepar", config={"model": model_path})
    except Exception as exc:  # benepar raises whatever torch/transformers raise on a bad model
        raise ConfigError(f"{BENEPAR_SETTING}={model_path!r}: benepar could not load it: {exc}") from exc
    return pipeline


class BeneparVerbNounParser:
    """Constituency backend: benepar on top of spaCy (spaCy supplies tokens, sentences and lemmas)."""

    name = "benepar"

    def __init__(self, model_path: str | None, *, batch_size: int = 64) -> None:
        self._nlp = load_benepar(model_path)
        self._batch_size = batch_size

    def parse(self, instructions: Iterable[str]) -> list[VerbNoun]:
        """One VerbNoun per instruction, in order."""
        pairs: list[VerbNoun] = []
        for doc in self._nlp.pipe(
            (first_clause_window(t) for t in instructions), batch_size=self._batch_size
        ):
            sentence = next(iter(doc.sents), None)
            if sentence is None:
                pairs.append(NO_PAIR)
                continue
            tree = parse_bracketed(sentence._.parse_string)
            pairs.append(verb_noun_of_tree(tree, [t.lemma_ for t in sentence]))
        return pairs
