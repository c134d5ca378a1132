"""Every word the portal itself says, one catalogue per language (``texts.<lang>.yaml``).

Loaded like the chat's catalogue (``bot.chat.texts``: nested sections become dotted keys,
``one``/``other`` pairs are plural forms), but kept apart from it: the report room does not
import the chat room, and the portal's copy is HTML for the web, not Telegram HTML. Templates
are written by us; every field filled in is escaped unless it is already ``Markup``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from importlib import resources
from string import Formatter
from typing import Any

import yaml

PLURAL_FORMS = frozenset({"one", "other"})


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
        if not isinstance(raw, dict):
            raise SiteTextError(f"{name}: top level must be a mapping")
        return cls(language, _flatten(raw, "", name))

    def __call__(self, key: str, /, **fields: Any) -> Markup:
        """The text ``key`` as HTML, ``fields`` escaped unless ``Markup``."""
        return _fill(self._template(key), fields)

    def plain(self, key: str, /, **fields: Any) -> str:
        """The text ``key`` unescaped: for the search index and the browser script."""
        return self._template(key).format_map(fields)

    def plural(self, key: str, count: int, /, **fields: Any) -> Markup:
        """The singular or plural form of ``key`` for ``count`` (``{count}`` in the text)."""
        forms = self.messages.get(key)
        if not isinstance(forms, Mapping):
            raise SiteTextError(f"no plural text '{key}' in catalogue '{self.language}'")
        return _fill(forms["one" if count == 1 else "other"], {"count": count, **fields})

    def template(self, key: str) -> str:
        """The text ``key`` with its placeholders unfilled: for the browser script to fill."""
        return self._template(key)

    def fields(self, key: str) -> set[str]:
        """Placeholder names a text expects (for the catalogue tests)."""
        value = self.messages[key]
        templates = value.values() if isinstance(value, Mapping) else [value]
        return {name for t in templates for _, name, _, _ in Formatter().parse(t) if name}

    def _template(self, key: str) -> str:
        template = self.messages.get(key)
        if not isinstance(template, str):
            raise SiteTextError(f"no text '{key}' in catalogue '{self.language}'")
        return template


def _fill(template: str, fields: Mapping[str, Any]) -> Markup:
    safe = {
        name: value if isinstance(value, Markup) else escape(str(value), quote=True)
        for name, value in fields.items()
    }
    return Markup(template.format_map(safe))


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
            raise SiteTextError(f"{where}: '{key}' must be text, a section or one/other forms")
    return flat
