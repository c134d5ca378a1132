"""All user-facing copy of the chat, read from one catalogue per language (``texts.<lang>.yaml``).

Keys are the same in every language, so an English catalogue is one more file next to
``texts.de.yaml``. Templates are Telegram HTML written by us; every field filled into a
template is escaped here, unless it is already ``Html`` (a fragment built from the catalogue).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.catalogue import fill, flatten, placeholders

HERE = Path(__file__).parent


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
        return cls(language, flatten(raw, str(path), TextError))

    def __call__(self, key: str, /, **fields: Any) -> Html:
        """The text ``key`` with ``fields`` filled in (escaped unless ``Html``)."""
        template = self.messages.get(key)
        if not isinstance(template, str):
            raise TextError(f"no text '{key}' in catalogue '{self.language}'")
        return fill(template, fields, Html)

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
        return fill(forms["one" if count == 1 else "other"], {"count": count, **fields}, Html)

    def has(self, key: str) -> bool:
        return key in self.messages

    def fields(self, key: str) -> set[str]:
        """Placeholder names a text expects (for the catalogue tests)."""
        return placeholders(self.messages[key])
