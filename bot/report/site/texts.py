"""Every word the portal itself says, one catalogue per language (``texts.<lang>.yaml``).

Read and filled like the chat's catalogue (both through ``bot.knowledge.catalogue``), but a
class of its own: the report room does not
import the chat room, and the portal's copy is HTML for the web, not Telegram HTML. Templates
are written by us; every field filled in is escaped unless it is already ``Markup``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from bot.knowledge.catalogue import fill, flatten, placeholders


class Markup(str):
    """HTML built by the portal: filled into a template as it is."""

    __slots__ = ()


class SiteTextError(Exception):
    """The catalogue is broken (a developer error, found by the tests)."""


@dataclass(frozen=True)
class SiteTexts:
    """One language's portal copy: flat dotted keys to templates (or plural pairs)."""

    language: str
    messages: Mapping[str, str | Mapping[str, str]]

    @classmethod
    def load(cls, language: str) -> SiteTexts:
        """Read the bundled ``texts.<language>.yaml``."""
        name = f"texts.{language}.yaml"
        source = resources.files("bot.report.site").joinpath(name)
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
        return cls(language, flatten(raw, name, SiteTextError))

    def __call__(self, key: str, /, **fields: Any) -> Markup:
        """The text ``key`` as HTML, ``fields`` escaped unless ``Markup``."""
        return fill(self._template(key), fields, Markup)

    def plain(self, key: str, /, **fields: Any) -> str:
        """The text ``key`` unescaped: for the search index and the browser script."""
        return self._template(key).format_map(fields)

    def plural(self, key: str, count: int, /, **fields: Any) -> Markup:
        """The singular or plural form of ``key`` for ``count`` (``{count}`` in the text)."""
        forms = self.messages.get(key)
        if not isinstance(forms, Mapping):
            raise SiteTextError(f"no plural text '{key}' in catalogue '{self.language}'")
        return fill(forms["one" if count == 1 else "other"], {"count": count, **fields}, Markup)

    def template(self, key: str) -> str:
        """The text ``key`` with its placeholders unfilled: for the browser script to fill."""
        return self._template(key)

    def fields(self, key: str) -> set[str]:
        """Placeholder names a text expects (for the catalogue tests)."""
        return placeholders(self.messages[key])

    def _template(self, key: str) -> str:
        template = self.messages.get(key)
        if not isinstance(template, str):
            raise SiteTextError(f"no text '{key}' in catalogue '{self.language}'")
        return template
