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


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("Tell me a joke. Then explain it.", "Tell me a joke."),
        ("Is it true? Answer yes or no.", "Is it true?"),
        ("List fruits, e.g. apples and pears. Sort them.", "List fruits, e.g. apples and pears."),
        ("Write 3 lines.  2 of them rhyme.", "Write 3 lines."),
        ("Summarize the text", "Summarize the text"),
    ],
)
def test_the_window_ends_at_the_first_evident_sentence_end(text: str, window: str) -> None:
    assert first_clause_window(text) == window


def test_identical_first_sentences_are_parsed_once_and_every_instruction_gets_its_pair(
    parser: SpacyVerbNounParser,
) -> None:
    from generator.analysis.verbnoun import load_spacy

    nlp = load_spacy()
    seen: list[str] = []

    class Counting:
        def pipe(self, texts, **kwargs):  # type: ignore[no-untyped-def]
            texts = list(texts)
            seen.extend(texts)
            return nlp.pipe(texts, **kwargs)

    texts = ["Write a poem about the sea.", "Write a poem about the sea. Then rhyme.", "Explain it."] * 4
    pairs = SpacyVerbNounParser(Counting(), batch_size=2).parse(texts)
    assert pairs == [VerbNoun("write", "poem"), VerbNoun("write", "poem"), VerbNoun("explain", None)] * 4
    assert sorted(seen) == ["Explain it.", "Write a poem about the sea."]
