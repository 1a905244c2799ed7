from __future__ import annotations

import pytest

from generator.analysis.backends import ParserBackend, choose_parser
from generator.analysis.constituency import (
    BENEPAR_SETTING,
    load_benepar,
    parse_bracketed,
    verb_noun_of_tree,
)
from generator.analysis.verbnoun import NO_PAIR, VerbNoun
from generator.errors import ConfigError


def test_a_bracketed_parse_numbers_its_leaves_in_order() -> None:
    tree = parse_bracketed("(S (VP (VB Write) (NP (DT a) (NN poem))) (. .))")
    assert tree.label == "S"
    vp, stop = tree.children
    assert [c.label for c in vp.children] == ["VB", "NP"]
    assert vp.children[0].leaf == 0 and vp.children[1].children[1].leaf == 2 and stop.leaf == 3


def test_the_first_vp_head_verb_and_its_object_head_noun_are_found() -> None:
    tree = parse_bracketed(
        "(S (VP (VB Generate) (NP (NP (DT a) (NN list)) (PP (IN of) (NP (NNS foods)))) ) (. .))"
    )
    lemmas = ["generate", "a", "list", "of", "food", "."]
    assert verb_noun_of_tree(tree, lemmas) == VerbNoun("generate", "list")


def test_a_compound_object_takes_its_last_noun() -> None:
    tree = parse_bracketed("(S (VP (VB Write) (NP (DT a) (NN product) (NN review))))")
    assert verb_noun_of_tree(tree, ["write", "a", "product", "review"]) == VerbNoun("write", "review")


def test_a_question_without_a_vp_verb_has_no_pair() -> None:
    tree = parse_bracketed("(SBARQ (WHNP (WP What)) (SQ (VBZ is) (NP (DT the) (NN capital))) (. ?))")
    assert verb_noun_of_tree(tree, ["what", "be", "the", "capital", "?"]) == NO_PAIR


def test_a_verb_without_an_np_object_has_no_noun() -> None:
    tree = parse_bracketed("(S (VP (VB Think) (ADVP (RB carefully))))")
    assert verb_noun_of_tree(tree, ["think", "carefully"]) == VerbNoun("think", None)


def test_an_unbalanced_parse_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unbalanced"):
        parse_bracketed("(S (VP (VB Write)")


def test_benepar_without_a_model_names_the_setting() -> None:
    with pytest.raises(ConfigError, match=BENEPAR_SETTING):
        load_benepar(None)
    with pytest.raises(ConfigError, match=BENEPAR_SETTING):
        choose_parser(ParserBackend.BENEPAR, None)


def test_benepar_with_a_missing_directory_names_the_setting_and_the_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    missing = str(tmp_path / "nope")
    with pytest.raises(ConfigError, match=f"{BENEPAR_SETTING}=.*nope"):
        load_benepar(missing)


def test_benepar_with_a_directory_that_is_not_a_model_is_a_config_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=BENEPAR_SETTING):
        load_benepar(str(tmp_path))


def test_auto_uses_spacy_and_says_benepar_is_off() -> None:
    pytest.importorskip("spacy")
    parser, note = choose_parser(ParserBackend.AUTO, None)
    assert parser.name == "spacy"
    assert BENEPAR_SETTING in note and "spaCy" in note
