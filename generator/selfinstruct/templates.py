"""Prompt templates: plain-text files in ``generator/selfinstruct/prompts/`` filled by exact substitution.

Contract:

* A template is the text of ``generator/selfinstruct/prompts/<name>.txt`` with its trailing newlines
  removed. The prompts are continued by a base model, so whitespace at the very end of a
  prompt changes what the model writes next; keeping that whitespace out of the files
  means an editor that appends a final newline cannot silently change a prompt. Render
  functions add any tail they need in code, where tests pin it.
* Placeholders use :class:`string.Template` syntax (``$name`` or ``${name}``), chosen over
  ``str.format`` because the few-shot examples may contain braces (code, JSON). A literal
  dollar sign in a template must be written ``$$``.
* Substitution is exact: every placeholder must be given a value (``KeyError`` otherwise),
  values are inserted verbatim (a ``$`` inside a value is not re-expanded) and nothing
  else is touched.
"""

from __future__ import annotations

import re
import string
from functools import cache
from importlib.resources import files

__all__ = ["load_template", "placeholders", "render"]

# Template names are bare file stems; refusing anything else keeps a name from reaching
# outside the prompts folder.
_NAME = re.compile(r"[a-z][a-z0-9_]*")


@cache
def load_template(name: str) -> str:
    """Return the template ``name`` (file stem, e.g. ``"instructions"``), read once and cached.

    Raises ``ValueError`` for a name that is not a bare lower-case stem and
    ``FileNotFoundError`` when no such template ships with the package.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(f"invalid template name {name!r}: expected a bare lower-case file stem")
    resource = files("generator.selfinstruct") / "prompts" / f"{name}.txt"
    if not resource.is_file():
        raise FileNotFoundError(f"no prompt template named {name!r} in generator/selfinstruct/prompts/")
    return resource.read_text(encoding="utf-8").rstrip("\n")


def placeholders(template: str) -> frozenset[str]:
    """Return the names of the placeholders used by ``template`` (``$$`` escapes excluded)."""
    names: set[str] = set()
    for match in string.Template.pattern.finditer(template):
        name = match.group("named") or match.group("braced")
        if name:
            names.add(name)
    return frozenset(names)


def render(template: str, **values: str) -> str:
    """Substitute ``values`` into ``template``.

    Raises ``KeyError`` for a placeholder without a value and ``ValueError`` for a value
    that names no placeholder (almost always a typo in the caller) or a malformed ``$``.
    """
    unused = set(values) - placeholders(template)
    if unused:
        raise ValueError(f"values for unknown placeholders: {sorted(unused)}")
    return string.Template(template).substitute(values)
