from __future__ import annotations

import pytest

from generator.analysis.verbnoun import NO_PAIR, SpacyVerbNounParser, VerbNoun, first_clause_window

spacy = pytest.importorskip("spacy")


@pytest.fixture(scope="module")
def parser() -> SpacyVerbNounParser:
    return SpacyVerbNounParser()


KNOWN = [
    ("Write a poem about the sea.", VerbNoun("write", "poem")),
    ("Generate a list of five healthy breakfast foods.", VerbNoun("generate", "list")),
    ("Given a sentence, classify its sentiment.", VerbNoun("classify", "sentiment")),
    ("Please explain the difference between weather and climate.", VerbNoun("explain", "difference")),
    ("Rewrite the following sentence in passive voice.", VerbNoun("rewrite", "sentence")),
    # only the first sentence counts
    ("Tell me a joke. Then explain it.", VerbNoun("tell", "joke")),
    # a verb whose object is a pronoun has no noun: not a verb–noun pair
    ("Explain it.", VerbNoun("explain", None)),
    # a question has no root verb (the root is the copula): no pair
    ("What is the capital of France?", NO_PAIR),
]


@pytest.mark.parametrize(("text", "expected"), KNOWN)
def test_the_root_verb_and_its_first_direct_object_noun_are_found(
    parser: SpacyVerbNounParser, text: str, expected: VerbNoun
) -> None:
    assert parser.parse([text]) == [expected]


def test_a_non_verb_root_is_followed_to_its_first_verb_child() -> None:
    class Token:
        def __init__(self, pos: str, dep: str, lemma: str, children: list[Token]) -> None:
            self.pos_, self.dep_, self.lemma_, self._children = pos, dep, lemma, children

        @property
        def children(self):  # type: ignore[no-untyped-def]
            return iter(self._children)

    from generator.analysis.verbnoun import verb_noun_of

    noun = Token("NOUN", "dobj", "Summary", [])
    verb = Token("VERB", "xcomp", "Write", [noun])
    root = Token("AUX", "ROOT", "be", [Token("PRON", "nsubj", "you", []), verb])
    assert verb_noun_of(root) == VerbNoun("write", "summary")


def test_a_batch_keeps_the_order_of_its_instructions(parser: SpacyVerbNounParser) -> None:
    texts = [t for t, _ in KNOWN] * 3
    assert parser.parse(texts) == [e for _, e in KNOWN] * 3


def test_empty_instructions_have_no_pair(parser: SpacyVerbNounParser) -> None:
    assert parser.parse(["", "   "]) == [NO_PAIR, NO_PAIR]


def test_only_the_first_line_is_parsed() -> None:
    assert first_clause_window("Sort these numbers.\nInput: 3, 1, 2") == "Sort these numbers."
