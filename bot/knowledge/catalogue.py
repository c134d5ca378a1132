"""Message catalogues read from YAML: the chat's (bot/chat/texts.py) and the portal's
(bot/report/site/texts.py) share how a file becomes flat dotted keys and how fields are filled.

Nested sections become dotted keys, ``one``/``other`` pairs are plural forms; every field filled
into a template is escaped unless it is already of the catalogue's markup type. The two
catalogues keep their own classes (Telegram HTML and web HTML are different markup, and the
report room does not import the chat room); this module is what they have in common.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from string import Formatter
from typing import Any, TypeVar

PLURAL_FORMS = frozenset({"one", "other"})
M = TypeVar("M", bound=str)


def flatten(raw: object, where: str, error: type[Exception]) -> dict[str, Any]:
    """A parsed catalogue file as dotted keys; anything but text, sections and plural pairs is
    an error (``error``, in German like every message of this room)."""
    if not isinstance(raw, dict):
        raise error(f"{where}: oberste Ebene muss Abschnitte und Texte enthalten")
    return _flatten(raw, "", where, error)


def fill(template: str, fields: Mapping[str, Any], markup: type[M]) -> M:
    """``template`` with ``fields`` filled in, each escaped unless already ``markup``."""
    safe = {
        name: value if isinstance(value, markup) else escape(str(value))
        for name, value in fields.items()
    }
    return markup(template.format_map(safe))


def placeholders(value: str | Mapping[str, str]) -> set[str]:
    """Placeholder names a text (or both plural forms) expects, for the catalogue tests."""
    templates = value.values() if isinstance(value, Mapping) else [value]
    return {name for t in templates for _, name, _, _ in Formatter().parse(t) if name}


def _flatten(
    node: Mapping[str, Any], prefix: str, where: str, error: type[Exception]
) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in node.items():
        key = f"{prefix}{name}"
        if isinstance(value, str):
            flat[key] = value.rstrip("\n")
        elif isinstance(value, dict) and set(value) == PLURAL_FORMS:
            flat[key] = {form: str(text).rstrip("\n") for form, text in value.items()}
        elif isinstance(value, dict):
            flat.update(_flatten(value, f"{key}.", where, error))
        else:
            raise error(f"{where}: '{key}' muss Text, Abschnitt oder one/other-Paar sein")
    return flat
