"""All user-facing copy of the chat, read from one catalogue per language (``texts.<lang>.yaml``).

Keys are the same in every language, so an English catalogue is one more file next to
``texts.de.yaml``. Templates are Telegram HTML written by us; every field filled into a
template is escaped here, unless it is already ``Html`` (a fragment built from the catalogue).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path
from string import Formatter
from typing import Any

import yaml

HERE = Path(__file__).parent
PLURAL_FORMS = frozenset({"one", "other"})


class Html(str):
    """Text that is already Telegram HTML: filled into a template as it is."""

    __slots__ = ()


class TextError(Exception):
    """The catalogue is broken (a developer error, found by the tests)."""


@dataclass(frozen=True)
class Texts:
    """One language's catalogue: flat dotted keys to templates (or plural pairs)."""

    language: str
    messages: Mapping[str, str | Mapping[str, str]]

    @classmethod
    def load(cls, language: str = "de", directory: Path = HERE) -> Texts:
        """Read ``texts.<language>.yaml``; nested sections become dotted keys."""
        path = directory / f"texts.{language}.yaml"
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise TextError(f"{path}: top level must be a mapping")
        return cls(language, _flatten(raw, "", str(path)))

    def __call__(self, key: str, /, **fields: Any) -> Html:
        """The text ``key`` with ``fields`` filled in (escaped unless ``Html``)."""
        template = self.messages.get(key)
        if not isinstance(template, str):
            raise TextError(f"no text '{key}' in catalogue '{self.language}'")
        return _fill(template, fields)

    def plain(self, key: str, /, **fields: Any) -> str:
        """The text ``key`` with ``fields`` filled in unescaped: for button labels and toasts."""
        template = self.messages.get(key)
        if not isinstance(template, str):
            raise TextError(f"no text '{key}' in catalogue '{self.language}'")
        return template.format_map(fields)

    def plural(self, key: str, count: int, /, **fields: Any) -> Html:
        """The singular or plural form of ``key`` for ``count``, as ``{count}`` in the text."""
        forms = self.messages.get(key)
        if not isinstance(forms, Mapping):
            raise TextError(f"no plural text '{key}' in catalogue '{self.language}'")
        return _fill(forms["one" if count == 1 else "other"], {"count": count, **fields})

    def has(self, key: str) -> bool:
        return key in self.messages

    def fields(self, key: str) -> set[str]:
        """Placeholder names a text expects (for the catalogue tests)."""
        value = self.messages[key]
        templates = value.values() if isinstance(value, Mapping) else [value]
        return {name for t in templates for _, name, _, _ in Formatter().parse(t) if name}


def _fill(template: str, fields: Mapping[str, Any]) -> Html:
    safe = {
        name: value if isinstance(value, Html) else escape(str(value))
        for name, value in fields.items()
    }
    return Html(template.format_map(safe))


def _flatten(node: Mapping[str, Any], prefix: str, where: str) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in node.items():
        key = f"{prefix}{name}"
        if isinstance(value, str):
            flat[key] = value.rstrip("\n")
        elif isinstance(value, dict) and set(value) == PLURAL_FORMS:
            flat[key] = {form: str(text).rstrip("\n") for form, text in value.items()}
        elif isinstance(value, dict):
            flat.update(_flatten(value, f"{key}.", where))
        else:
            raise TextError(f"{where}: '{key}' must be text, a section or one/other forms")
    return flat
