"""The portal in English: the same pages under en/, built from the knowledge base's English
fields and worded by the portal's English catalogue and the bot's English card.

Real builds into temporary folders, read back as HTML; the browser half (axe-core audit and
the search on an English page) is in test_site_browser.py.
"""

from __future__ import annotations

import json
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.chat.cards import status_text
from bot.chat.texts import Texts
from bot.cli import portal_wording
from bot.config import DEFAULT_KB
from bot.knowledge.model import KnowledgeBase
from bot.report.site import CardWording, SiteError, build_site, entry_path, offer_url, topic_path
from bot.report.site.texts import SiteTexts
from bot.search.library import Library

HERNE = DEFAULT_KB.parent / "herne"
DAY = date(2026, 3, 2)
BOT = "VereinbarTestBot"


class Document(HTMLParser):
    """Elements with attributes, the text of ``<main>`` and of elements marked by class."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.texts: list[str] = []
        self.main: list[str] = []
        self._open: list[tuple[str, dict[str, str], int]] = []
        self.by_class: dict[str, list[str]] = {}
        self._in_main = 0
        self._skip = 0
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.elements.append((tag, values))
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "main":
            self._in_main += 1
        if tag not in ("br", "input", "meta", "link"):
            self._open.append((tag, values, len(self.texts)))
        self._space()

    def _space(self) -> None:
        self.texts.append(" ")
        if self._in_main:
            self.main.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self._space()
        if tag in ("script", "style"):
            self._skip -= 1
        if tag == "main":
            self._in_main -= 1
        while self._open:
            name, values, start = self._open.pop()
            for cls in values.get("class", "").split():
                self.by_class.setdefault(cls, []).append(squash("".join(self.texts[start:])))
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.texts.append(data)
        if self._in_main:
            self.main.append(data)

    @property
    def text(self) -> str:
        return squash("".join(self.texts))

    @property
    def main_text(self) -> str:
        # an inline element's end adds a space, which must not come before a comma
        return re.sub(r" (?=[,.;:])", "", squash("".join(self.main)))

    def attrs(self, tag: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag]

    def first(self, cls: str) -> str:
        return self.by_class.get(cls, [""])[0]


def squash(text: str) -> str:
    return " ".join(text.split())


def build(kb_dir: Path, out: Path) -> tuple[KnowledgeBase, Path]:
    library, problems = Library.open(kb_dir)
    assert library is not None, [str(p) for p in problems]
    snapshot = library.current
    build_site(
        snapshot.kb,
        out,
        analyzer=snapshot.index.analyzer,
        wording=portal_wording(),
        kb_date=DAY,
        bot_username=BOT,
    )
    return snapshot.kb, out


def read(out: Path, path: str) -> Document:
    return Document((out / path).read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=["koeln", "herne"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[KnowledgeBase, Path]:
    kb_dir = DEFAULT_KB if request.param == "koeln" else HERNE
    return build(kb_dir, tmp_path_factory.mktemp("portal-en") / request.param)


def german_pages(out: Path) -> list[str]:
    return sorted(
        p.relative_to(out).as_posix()
        for p in out.rglob("*.html")
        if not p.relative_to(out).as_posix().startswith("en/")
    )


# --- the catalogue --------------------------------------------------------------------------


def test_every_german_text_has_an_english_twin_with_the_same_placeholders() -> None:
    german, english = SiteTexts.load("de"), SiteTexts.load("en")
    assert set(german.messages) == set(english.messages)
    for key, value in german.messages.items():
        assert german.fields(key) == english.fields(key), key
        assert type(value) is type(english.messages[key]), key
        assert english.messages[key] != "", key


def test_pages_hold_no_german_copy_of_the_portal_in_english(
    site: tuple[KnowledgeBase, Path],
) -> None:
    """No sentence of the German catalogue shows on an English page (names from the
    knowledge base may stay German, the portal's own words may not)."""
    _, out = site
    german = SiteTexts.load("de")
    english = SiteTexts.load("en")
    phrases = {
        german.plain(key)
        for key, value in german.messages.items()
        if isinstance(value, str)
        and not german.fields(key)
        and "<" not in value
        and len(value) > 8
        and value != english.messages[key]
    }
    assert "Ansprechstellen" in phrases
    for path in german_pages(out):
        text = read(out, f"en/{path}").text
        assert [p for p in phrases if p in text] == [], path


# --- structure ------------------------------------------------------------------------------


def test_every_page_has_an_english_twin_and_a_switch_to_it(
    site: tuple[KnowledgeBase, Path],
) -> None:
    kb, out = site
    pages = german_pages(out)
    assert {topic_path(t) for t in kb.topics} | {entry_path(e) for e in kb.entries} <= set(pages)
    english = sorted(p.relative_to(out).as_posix() for p in (out / "en").rglob("*.html"))
    assert english == [f"en/{p}" for p in pages]
    for path in pages:
        for here, there, lang, label in (
            (path, f"en/{path}", "en", "English"),
            (f"en/{path}", path, "de", "Deutsch"),
        ):
            doc = read(out, here)
            html = doc.attrs("html")[0]
            assert html["lang"] == ("de" if lang == "en" else "en"), here
            switch = [a for a in doc.attrs("a") if a.get("hreflang") == lang]
            assert len(switch) == 1, here
            target = ((out / here).parent / switch[0]["href"]).resolve()
            assert target == (out / there).resolve(), here
            assert switch[0]["lang"] == lang
            assert doc.first("sprache") == label
            alternate = [a for a in doc.attrs("link") if a.get("rel") == "alternate"]
            assert [a["hreflang"] for a in alternate] == [lang]


def test_every_relative_link_of_an_english_page_stays_in_english_or_static(
    site: tuple[KnowledgeBase, Path],
) -> None:
    _, out = site
    wrong = []
    for path in german_pages(out):
        doc = read(out, f"en/{path}")
        for tag, attrs in doc.elements:
            for key in ("href", "src", "action"):
                value = attrs.get(key)
                if not value or re.match(r"^(https?:|mailto:|tel:|#)", value):
                    continue
                target = ((out / "en" / path).parent / value.split("?")[0]).resolve()
                inside = target.relative_to(out.resolve()).as_posix()
                ok = target.is_file() and (
                    inside.startswith(("en/", "static/")) or attrs.get("hreflang") == "de"
                )
                if not ok:
                    wrong.append(f"en/{path}: <{tag} {key}={value}>")
    assert wrong == []


def test_build_reports_both_languages_and_the_manifest_lists_the_english_files(
    tmp_path: Path,
) -> None:
    kb, out = build(HERNE, tmp_path / "out")
    listed = json.loads((out / ".vereinbar-portal").read_text())
    assert f"en/{entry_path(next(iter(kb.entries)))}" in listed
    assert "static/suchindex.en.js" in listed


def test_wording_must_include_german(tmp_path: Path) -> None:
    library, _ = Library.open(HERNE)
    assert library is not None
    snapshot = library.current
    with pytest.raises(SiteError, match="Deutsch"):
        build_site(
            snapshot.kb,
            tmp_path / "out",
            analyzer=snapshot.index.analyzer,
            wording={"en": portal_wording()["en"]},
        )


# --- content --------------------------------------------------------------------------------


def test_english_entry_pages_show_the_english_fields_and_the_bots_english_card_words(
    site: tuple[KnowledgeBase, Path],
) -> None:
    kb, out = site
    texts = Texts.load("en")
    english = kb.in_language("en")
    for entry in english.entries.values():
        doc = read(out, f"en/{entry_path(entry.id)}")
        assert doc.first("art").startswith(texts.plain(f"kind.{entry.kind}")), entry.id
        assert squash(doc.first("antwort")) == squash(entry.answer), entry.id
        assert entry.title in doc.main_text
        if entry.title_en:
            assert entry.title == entry.title_en
        if entry.target_group_en:
            assert f"For whom {squash(entry.target_group_en)}" in doc.main_text
        wording = status_text(english, entry, texts)
        if wording:
            assert f"Status {squash(wording)}" in doc.main_text, entry.id
        for contact in english.contacts_of(entry):
            assert contact.title in doc.main_text


def test_english_topic_start_and_status_pages_use_the_english_titles(
    site: tuple[KnowledgeBase, Path],
) -> None:
    kb, out = site
    english = kb.in_language("en")
    start = read(out, "en/index.html")
    assert english.organisation.name in start.main_text
    for topic in english.topics.values():
        assert topic.title in start.main_text
        assert topic.title in read(out, f"en/{topic_path(topic.id)}").main_text
    status = read(out, "en/umsetzungsstand.html").main_text
    for entry in english.entries.values():
        if entry.kind != "contact":
            assert entry.title in status, entry.id
    # the target dates of the source ("Jahresbericht 2") are said in English
    assert "Jahresbericht" not in read(out, "en/umsetzungsstand.html").first("uebersicht")


def test_an_entry_without_english_text_shows_the_german_one_under_the_bots_line(
    tmp_path: Path,
    make_kb,  # type: ignore[no-untyped-def]
) -> None:
    """Exactly as the bot's card (``Entry.speaks``, ``card.untranslated``): the German
    answer, marked as German, under the bot's own English line; nothing of it in German."""
    kb, out = build(make_kb(), tmp_path / "out")
    entry = kb.entries["gleitzeit"]
    assert not entry.speaks("en")
    line = Texts.load("en").plain("card.untranslated")
    doc = read(out, f"en/{entry_path(entry.id)}")
    assert doc.first("unuebersetzt") == line
    assert doc.first("antwort") == entry.answer
    answer = [a for t, a in doc.elements if "antwort" in a.get("class", "")]
    assert answer[0]["lang"] == "de"
    assert [a["lang"] for t, a in doc.elements if t == "h1"] == ["de"]
    assert line not in read(out, entry_path(entry.id)).text


def test_custom_wording_reaches_the_english_pages(tmp_path: Path, make_kb) -> None:  # type: ignore[no-untyped-def]
    """The portal words kind and status only through the wording it is given."""
    library, _ = Library.open(make_kb())
    assert library is not None
    snapshot = library.current
    english = Texts.load("en")
    words = {"kind.measure": "MEASURE-WORD", "status.geplant": "STATUS-WORD"}
    wording = {
        **portal_wording(),
        "en": CardWording(
            status=lambda kb, e: "STATUS-WORD and more",
            words=lambda key: words.get(key) or english.plain(key),
        ),
    }
    out = tmp_path / "out"
    build_site(snapshot.kb, out, analyzer=snapshot.index.analyzer, wording=wording, kb_date=DAY)
    doc = read(out, f"en/{entry_path('gleitzeit')}")
    assert doc.first("art") == "MEASURE-WORD 1.1.1"
    assert "Status STATUS-WORD and more" in doc.main_text
    assert doc.first("stand") == "STATUS-WORD"


# --- search ---------------------------------------------------------------------------------


def load_index(out: Path, name: str) -> dict:  # type: ignore[type-arg]
    text = (out / "static" / name).read_text(encoding="utf-8")
    prefix = "window.VEREINBAR_SUCHINDEX = "
    assert text.startswith(prefix)
    return json.loads(text[len(prefix) :].rstrip().rstrip(";"))  # type: ignore[no-any-return]


def test_the_english_search_page_loads_the_english_index(site: tuple[KnowledgeBase, Path]) -> None:
    _, out = site
    doc = read(out, "en/suche.html")
    scripts = [s["src"] for s in doc.attrs("script")]
    assert scripts == ["../static/suchindex.en.js", "../static/suche.js"]
    status = next(a for a in doc.attrs("p") if a.get("id") == "suche-status")
    assert status["data-found"] == SiteTexts.load("en").template("search.found")
    assert "{query}" in status["data-none"]
    german = next(a for a in read(out, "suche.html").attrs("p") if a.get("id") == "suche-status")
    assert german["data-found"] == SiteTexts.load("de").template("search.found")


def test_the_english_index_shows_english_results_and_finds_english_words(
    site: tuple[KnowledgeBase, Path],
) -> None:
    kb, out = site
    english = kb.in_language("en")
    index = load_index(out, "suchindex.en.js")
    german = load_index(out, "suchindex.js")
    assert index["language"] == "en" and german["language"] == "de"
    for item in index["entries"]:
        entry = english.entries[item["id"]]
        assert item["title"] == entry.title
        assert squash(entry.answer).startswith(squash(item["snippet"]).removesuffix(" …"))
        assert (out / "en" / item["url"]).is_file()
    library, _ = Library.open(kb.directory)
    assert library is not None
    analyzer = library.current.index.analyzer
    numbers = {item["id"]: n for n, item in enumerate(index["entries"])}
    for entry in kb.entries.values():
        if not entry.title_en:
            continue
        for term in analyzer.terms(entry.title_en):
            postings = {n for n, _ in index["terms"][term]["p"]}
            assert numbers[entry.id] in postings, (entry.id, term)
    # the German index holds the German wording only, as before English pages existed
    german_terms = {
        t
        for e in kb.entries.values()
        for f in (
            e.title,
            e.answer,
            e.target_group or "",
            kb.topics[e.topic].title if e.topic in kb.topics else "",
            *e.synonyms,
            *e.examples,
        )
        for t in analyzer.terms(f)
    }
    assert set(german["terms"]) == german_terms
    assert set(index["terms"]) > german_terms
    # the English keywords and example questions are searched on the English pages only
    keywords = [(e.id, k) for e in kb.entries.values() for k in e.synonyms_en]
    assert keywords
    for entry_id, keyword in keywords:
        for term in analyzer.terms(keyword):
            assert numbers[entry_id] in {n for n, _ in index["terms"][term]["p"]}, keyword


def test_offer_url_points_english_cards_to_english_pages() -> None:
    assert (
        offer_url("https://intranet.example/vb/index.html", "gleitzeit", "en")
        == "https://intranet.example/vb/en/eintrag/gleitzeit.html"
    )
    assert offer_url("https://intranet.example/vb", "gleitzeit") == (
        "https://intranet.example/vb/eintrag/gleitzeit.html"
    )
