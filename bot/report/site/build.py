"""Write the portal into a folder: pages, the search index and the static files.

A folder is only ever written when it is empty or holds an earlier build (recognised by its
manifest); files of the earlier build that the new one lacks (a deleted entry's page) are
removed, nothing else is touched.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path

from bot.knowledge.model import LANGUAGES, KnowledgeBase
from bot.report.site import urls
from bot.report.site.pages import CardWording, Renderer, StatusText, plain_status
from bot.report.site.searchindex import TermAnalyzer, build_index, index_script
from bot.report.site.texts import SiteTexts

MANIFEST = ".vereinbar-portal"
STATIC_FILES = ("portal.css", "suche.js", "favicon.svg")


class SiteError(Exception):
    """The portal cannot be written; the message is German, for admins."""


@dataclass(frozen=True, slots=True)
class SiteBuild:
    """What a build wrote, for the command's summary line."""

    directory: Path
    pages: int
    """Pages of all languages together."""
    languages: tuple[str, ...]
    files: tuple[str, ...]
    removed: tuple[str, ...]


def knowledge_date(kb: KnowledgeBase) -> date:
    """The day the knowledge base was last changed: its newest YAML file."""
    times = [
        p.stat().st_mtime for p in Path(kb.directory).iterdir() if p.suffix in (".yaml", ".yml")
    ]
    return datetime.fromtimestamp(max(times)).date() if times else date.today()


def build_site(
    kb: KnowledgeBase,
    out: Path,
    *,
    analyzer: TermAnalyzer,
    status_text: StatusText = plain_status,
    wording: Mapping[str, CardWording] | None = None,
    kb_date: date | None = None,
    bot_username: str | None = None,
) -> SiteBuild:
    """Render every page of ``kb`` into ``out``, once per language of ``wording``.

    ``analyzer`` is the bot's (``snapshot.index.analyzer``), so the search index holds the
    bot's terms. ``wording`` gives, per language, the bot card's words (``CardWording``:
    status line and catalogue; the ``site`` command passes the bot's own); German is at the
    root, every other language in its own folder (``urls.language_prefix``). Without
    ``wording`` only German pages are built, their status worded by ``status_text``.
    ``bot_username`` adds the 'Im Chat fragen' links; ``kb_date`` defaults to the day the
    newest YAML file changed.
    """
    try:
        bot = urls.bot_username(bot_username) if bot_username else None
    except ValueError as exc:
        raise SiteError(str(exc)) from exc
    wording = wording or {"de": CardWording(status=status_text)}
    languages = tuple(lang for lang in LANGUAGES if lang in wording)
    if "de" not in languages or set(wording) - set(languages):
        raise SiteError(f"Portal-Sprachen müssen Deutsch enthalten und aus {LANGUAGES} sein.")
    prefixes = {lang: urls.language_prefix(lang) for lang in languages}
    day = kb_date or knowledge_date(kb)
    previous = _previous_build(out)
    files: dict[str, str] = {}
    count = 0
    for language in languages:
        prefix = prefixes[language]
        renderer = Renderer(
            kb.in_language(language),
            day,
            bot,
            wording=wording[language],
            texts=SiteTexts.load(language),
            prefix=prefix,
            other={lang: p for lang, p in prefixes.items() if lang != language},
        )
        pages = list(renderer.pages())
        count += len(pages)
        for page in pages:
            files[prefix + page.path] = renderer.render(page)
        from_search = posixpath.dirname(urls.SEARCH_PAGE) or "."
        index = build_index(
            kb,
            analyzer,
            urls={e: posixpath.relpath(urls.entry_path(e), from_search) for e in kb.entries},
            labels=renderer.search_labels(),
            language=language,
        )
        files[urls.search_index(language)] = index_script(index)
    static = resources.files("bot.report.site").joinpath("static")
    for name in STATIC_FILES:
        files[f"static/{name}"] = static.joinpath(name).read_text(encoding="utf-8")
    try:
        for path, text in files.items():
            target = out / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        removed = sorted(previous - files.keys())
        for path in removed:
            (out / path).unlink(missing_ok=True)
        for folder in sorted({posixpath.dirname(p) for p in removed} - {""}, reverse=True):
            if (out / folder).is_dir() and not any((out / folder).iterdir()):
                (out / folder).rmdir()
        (out / MANIFEST).write_text(json.dumps(sorted(files), indent=0) + "\n", encoding="utf-8")
    except OSError as exc:
        raise SiteError(f"Portal konnte nicht nach {out} geschrieben werden: {exc}") from exc
    return SiteBuild(out, count, languages, tuple(sorted(files)), tuple(removed))


def _previous_build(out: Path) -> set[str]:
    """Files of an earlier build in ``out``; refuses a folder that holds anything else."""
    if not out.exists():
        return set()
    if not out.is_dir():
        raise SiteError(f"{out} ist eine Datei, kein Ordner.")
    manifest = out / MANIFEST
    if manifest.is_file():
        try:
            listed = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SiteError(f"{manifest} ist nicht lesbar ({exc}).") from exc
        # only plain relative paths, so a tampered manifest cannot delete outside the folder
        return {
            p
            for p in listed
            if isinstance(p, str) and not p.startswith("/") and ".." not in p.split("/")
        }
    if any(out.iterdir()):
        raise SiteError(
            f"Der Ordner {out} ist nicht leer und enthält kein früher erzeugtes Portal – "
            "bitte einen leeren oder neuen Ordner angeben."
        )
    return set()
