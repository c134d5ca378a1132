"""The intranet portal as files: built from the bundled knowledge bases, read back as HTML.

The browser half (navigation, search, accessibility audit) is in test_site_browser.py; these
tests need no browser and check what the files themselves promise: every page is there, every
link resolves, nothing is loaded from elsewhere, and each entry shows the bot card's facts.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from datetime import date
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import IO

import pytest
from click.testing import CliRunner, Result

from bot.chat.cards import card
from bot.chat.cards import status_text as bot_status_text
from bot.chat.texts import Texts
from bot.cli import cli
from bot.config import DEFAULT_KB, PROJECT_ROOT
from bot.knowledge.model import STATUS_LABELS, Entry, KnowledgeBase
from bot.knowledge.schema import load_knowledge
from bot.report.site import (
    SiteError,
    build_site,
    chat_link,
    entry_path,
    make_server,
    offer_url,
    topic_path,
)
from bot.report.site.build import MANIFEST
from bot.report.site.pages import NO_DEADLINE, kind_label
from bot.report.site.searchindex import normaliser_data, snippet
from bot.search.index import SearchIndex
from bot.search.library import Library, Snapshot

HERNE = DEFAULT_KB.parent / "herne"
BOT = "VereinbarTestBot"
DAY = date(2026, 3, 2)
FIXED_PAGES = {"index.html", "kontakte.html", "umsetzungsstand.html", "suche.html"}
STATIC = {"static/portal.css", "static/suche.js", "static/favicon.svg", "static/suchindex.js"}


# --- helpers ------------------------------------------------------------------------------------


BLOCKS = frozenset(
    "p div dt dd li ul ol dl h1 h2 h3 h4 h5 h6 td th tr table caption section nav header "
    "footer main br form label".split()
)


class Document(HTMLParser):
    """The parts of a page the tests look at: elements with attributes, headings, main text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.headings: list[int] = []
        self.main: list[str] = []
        self.everything: list[str] = []
        self._in_main = 0
        self._in_script = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "main":
            self._in_main += 1
        self._in_script = tag in ("script", "style")
        if tag in BLOCKS:
            self.handle_data(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCKS:
            self.handle_data(" ")
        if tag == "main":
            self._in_main -= 1
        if tag in ("script", "style"):
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            return
        self.everything.append(data)
        if self._in_main:
            self.main.append(data)

    @property
    def main_text(self) -> str:
        return " ".join("".join(self.main).split())

    @property
    def text(self) -> str:
        return " ".join("".join(self.everything).split())

    def attrs(self, tag: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag]


def squash(text: str) -> str:
    return " ".join(text.split())


def snapshot_of(kb_dir: Path) -> Snapshot:
    """The knowledge base with the bot's search index, as the ``site`` command loads it."""
    library, problems = Library.open(kb_dir)
    assert library is not None, [str(p) for p in problems]
    return library.current


def build(kb_dir: Path, out: Path, **options: str) -> tuple[KnowledgeBase, Path]:
    snapshot = snapshot_of(kb_dir)
    build_site(
        snapshot.kb,
        out,
        analyzer=snapshot.index.analyzer,
        status_text=bot_status_text,
        kb_date=DAY,
        **options,
    )
    return snapshot.kb, out


def pages_of(site: Path) -> Iterator[tuple[str, Document]]:
    for path in sorted(site.rglob("*.html")):
        yield path.relative_to(site).as_posix(), Document(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def koeln_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[KnowledgeBase, Path]:
    return build(DEFAULT_KB, tmp_path_factory.mktemp("portal") / "koeln", bot_username=BOT)


@pytest.fixture(scope="module")
def herne_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[KnowledgeBase, Path]:
    return build(HERNE, tmp_path_factory.mktemp("portal") / "herne", bot_username=BOT)


@pytest.fixture(params=["koeln", "herne"])
def site(
    request: pytest.FixtureRequest,
    koeln_site: tuple[KnowledgeBase, Path],
    herne_site: tuple[KnowledgeBase, Path],
) -> tuple[KnowledgeBase, Path]:
    return koeln_site if request.param == "koeln" else herne_site


# --- structure ----------------------------------------------------------------------------------


def test_both_bundled_organisations_build_every_page(site: tuple[KnowledgeBase, Path]) -> None:
    kb, out = site
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    expected = (
        FIXED_PAGES
        | STATIC
        | {topic_path(t) for t in kb.topics}
        | {entry_path(e) for e in kb.entries}
        | {MANIFEST}
    )
    assert written == expected
    assert sorted(json.loads((out / MANIFEST).read_text())) == sorted(expected - {MANIFEST})


def test_every_relative_link_resolves_to_a_built_file(site: tuple[KnowledgeBase, Path]) -> None:
    _, out = site
    broken = []
    for name, doc in pages_of(out):
        for tag, attrs in doc.elements:
            for key in ("href", "src", "action"):
                value = attrs.get(key)
                if not value or re.match(r"^(https?:|mailto:|tel:|#)", value):
                    continue
                target = (out / name).parent / value.split("?")[0].split("#")[0]
                if not target.resolve().is_file():
                    broken.append(f"{name}: <{tag} {key}={value}>")
    assert broken == []


def test_pages_load_nothing_from_another_host(site: tuple[KnowledgeBase, Path]) -> None:
    """Scripts, styles, icons and forms are local; outside links only go to Telegram or to
    addresses that the YAML itself names."""
    kb, out = site
    yaml_web = {e.web for e in kb.entries.values() if e.web}
    for name, doc in pages_of(out):
        for tag, attrs in doc.elements:
            for key in ("src", "action"):
                assert not re.match(r"^[a-z]+:|^//", attrs.get(key, "")), (name, tag, attrs)
            if tag == "link":
                assert not re.match(r"^[a-z]+:|^//", attrs["href"]), (name, attrs)
            href = attrs.get("href", "") if tag == "a" else ""
            if href.startswith(("http:", "https:", "//")):
                assert href.startswith(f"https://t.me/{BOT}") or href in yaml_web, (name, href)
        assert "Content-Security-Policy" in str(doc.attrs("meta"))
    css = (out / "static/portal.css").read_text()
    assert "@import" not in css and "url(" not in css
    script = (out / "static/suche.js").read_text()
    assert not re.search(r"fetch\(|XMLHttpRequest|https?://|import\(", script)


def test_every_page_has_lang_landmarks_skip_link_and_ordered_headings(
    site: tuple[KnowledgeBase, Path],
) -> None:
    _, out = site
    for name, doc in pages_of(out):
        assert doc.attrs("html") == [{"lang": "de"}], name
        tags = [t for t, _ in doc.elements]
        body = tags.index("body")
        assert tags[body + 1] == "a" and doc.elements[body + 1][1]["href"] == "#inhalt", name
        assert doc.attrs("main") == [{"id": "inhalt", "class": "rahmen", "tabindex": "-1"}]
        assert {"header", "nav", "main", "footer"} <= set(tags), name
        assert doc.headings[0] == 1 and doc.headings.count(1) == 1, name
        jumps = [b for a, b in zip(doc.headings, doc.headings[1:], strict=False) if b > a + 1]
        assert jumps == [], f"{name}: heading levels skip ({doc.headings})"
        labels = [a.get("aria-label") for a in doc.attrs("nav")]
        assert "Hauptnavigation" in labels, name


def test_every_page_states_the_knowledge_base_version_and_date(
    site: tuple[KnowledgeBase, Path],
) -> None:
    kb, out = site
    line = f"Stand der Wissensbasis: Version {kb.version} vom 02.03.2026"
    for name, doc in pages_of(out):
        assert line in doc.text, name
        assert kb.organisation.source in doc.text, name


def test_the_date_defaults_to_the_newest_yaml_file(tmp_path: Path, make_kb) -> None:  # type: ignore[no-untyped-def]
    directory = make_kb()
    stamp = 1_767_225_600  # 2026-01-01 00:00 UTC
    for number, path in enumerate(sorted(directory.glob("*.yaml"))):
        os.utime(path, (stamp + number * 86_400, stamp + number * 86_400))
    snapshot = snapshot_of(directory)
    build_site(snapshot.kb, tmp_path / "out", analyzer=snapshot.index.analyzer)
    newest = max(p.stat().st_mtime for p in directory.glob("*.yaml"))
    expected = date.fromtimestamp(newest).strftime("%d.%m.%Y")
    assert f"vom {expected}" in Document((tmp_path / "out/index.html").read_text()).text


# --- the same facts as the bot --------------------------------------------------------------------


def _card_facts(kb: KnowledgeBase, entry: Entry) -> list[str]:
    """Each fact of the bot's answer card as plain text, the contacts line split into names."""
    plain = unescape(re.sub(r"<[^>]+>", "", card(kb, entry, Texts.load())))
    facts = []
    for raw in plain.splitlines():
        line = re.sub(r"^(👥|📌|📞|🌐|✉️|☎️|🏢|ℹ️)\s*", "", raw.strip())
        label, _, value = line.partition(": ")
        if label == "Ansprechpartner":
            titles = [c.title for c in kb.contacts_of(entry)]
            assert value == ", ".join(titles)
            facts.extend(titles)
        elif label in ("Für wen", "Stand"):
            facts.append(value)
        elif line:
            facts.append(line)
    return facts


def test_every_entry_page_shows_the_facts_of_the_bot_card(
    site: tuple[KnowledgeBase, Path],
) -> None:
    kb, out = site
    for entry in kb.entries.values():
        page = Document((out / entry_path(entry.id)).read_text(encoding="utf-8")).main_text
        facts = _card_facts(kb, entry)
        assert facts[:2] == [entry.title, kind_label(entry)]
        for fact in facts:
            assert squash(fact) in page, f"{entry.id}: '{fact}' fehlt auf der Seite"
        assert squash(entry.source or kb.organisation.source) in page, entry.id


def test_the_site_command_words_the_status_like_the_bot(tmp_path: Path) -> None:
    result = run("site", "--out", tmp_path / "portal")
    assert result.exit_code == 0, result.output
    kb = load_knowledge(DEFAULT_KB)
    for entry in kb.entries.values():
        wording = bot_status_text(kb, entry)
        if wording is None:
            continue
        page = Document((tmp_path / "portal" / entry_path(entry.id)).read_text()).main_text
        assert f"Stand {squash(wording)}" in page, entry.id


def test_koeln_shows_measure_and_field_numbers(koeln_site: tuple[KnowledgeBase, Path]) -> None:
    kb, out = koeln_site
    page = Document((out / entry_path("gleitzeit")).read_text()).main_text
    assert "Maßnahme 1.1.1" in page
    assert "Handlungsfeld 1: Arbeitszeit" in page
    assert "Zielvereinbarung audit berufundfamilie 2020, Maßnahme 1.1.1" in page
    start = Document((out / "index.html").read_text()).main_text
    for topic in kb.topics.values():
        assert f"Handlungsfeld {topic.number}: {topic.title}" in start


def test_herne_has_no_numbers_it_does_not_have(herne_site: tuple[KnowledgeBase, Path]) -> None:
    kb, out = herne_site
    assert all(e.ref is None for e in kb.entries.values())
    for name, doc in pages_of(out):
        assert not re.search(r"Maßnahme \d|Handlungsfeld|Jahresbericht", doc.text), name
    status = Document((out / "umsetzungsstand.html").read_text())
    assert "Ohne Zieltermin" in status.main_text
    assert "Nr." not in status.main_text


def test_related_offers_link_both_ways(koeln_site: tuple[KnowledgeBase, Path]) -> None:
    kb, out = koeln_site
    service = next(e for e in kb.entries.values() if e.related_refs)
    measure = kb.by_ref[service.related_refs[0]]
    service_page = (out / entry_path(service.id)).read_text()
    measure_page = (out / entry_path(measure.id)).read_text()
    assert f'href="{measure.id}.html"' in service_page
    assert f'href="{service.id}.html"' in measure_page


def test_contacts_page_lists_every_contact_counselling_first(
    site: tuple[KnowledgeBase, Path],
) -> None:
    kb, out = site
    doc = Document((out / "kontakte.html").read_text())
    links = [a["href"] for a in doc.attrs("a") if a.get("href", "").startswith("eintrag/")]
    contacts = [e.id for e in kb.contacts()]
    listed = list(dict.fromkeys(h.removeprefix("eintrag/").removesuffix(".html") for h in links))
    assert listed[0] == kb.organisation.counselling
    assert sorted(listed) == sorted(contacts)


# --- status overview ------------------------------------------------------------------------------


def _table_rows(html: str) -> list[list[str]]:
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([squash(unescape(re.sub(r"<[^>]+>", "", c))) for c in cells])
    return rows


def test_status_overview_counts_offers_by_jahresbericht(
    koeln_site: tuple[KnowledgeBase, Path],
) -> None:
    kb, out = koeln_site
    html = (out / "umsetzungsstand.html").read_text()
    summary = html.split('<table class="uebersicht">')[1].split("</table>")[0]
    header, *rows = _table_rows(summary)
    offers = [e for e in kb.entries.values() if e.kind != "contact"]
    # A column per status some offer has, in the order geplant, in Prüfung, in Umsetzung …
    statuses = [s for s in STATUS_LABELS if any(e.status == s for e in offers)]
    assert header == ["Zieltermin", *(STATUS_LABELS[s] for s in statuses), "zusammen"]
    assert "geplant" in statuses
    for deadline, *counts, together in rows[:-1]:
        group = [e for e in offers if (e.deadline or NO_DEADLINE) == deadline]
        assert [int(n) for n in counts] == [sum(e.status == s for e in group) for s in statuses]
        assert int(together) == len(group)
    # One row per target date, "Jahresbericht 1, 2, 3" in that order, offers without one last.
    dates = [r[0] for r in rows[:-1]]
    assert len(dates) == len(set(dates))
    assert set(dates) == {e.deadline or NO_DEADLINE for e in offers}
    assert NO_DEADLINE not in dates[:-1]
    reports = [d for d in dates if re.fullmatch(r"Jahresbericht \d+", d)]
    assert reports and reports == sorted(reports, key=lambda d: int(d.split()[1]))
    assert rows[-1] == ["alle", *(str(int(x)) for x in rows[-1][1:])]
    assert int(rows[-1][-1]) == len(offers)
    for entry in offers:  # every offer appears once, in its group, with its status in words
        assert html.count(f'href="{entry_path(entry.id)}"') == 1, entry.id


# --- deep links and the URL scheme --------------------------------------------------------------


def test_every_entry_page_deep_links_into_the_bot_with_its_id(
    site: tuple[KnowledgeBase, Path],
) -> None:
    kb, out = site
    for entry in kb.entries.values():
        doc = Document((out / entry_path(entry.id)).read_text())
        chats = [a["href"] for a in doc.attrs("a") if a.get("href", "").startswith("https://t.me/")]
        assert f"https://t.me/{BOT}?start={entry.id}" in chats, entry.id
        assert [c for c in chats if "?start=" in c] == [f"https://t.me/{BOT}?start={entry.id}"]


def test_without_bot_username_there_is_no_chat_link(tmp_path: Path) -> None:
    _, out = build(HERNE, tmp_path / "site")
    for name, doc in pages_of(out):
        assert "t.me" not in str(doc.elements), name
        assert "Im Chat fragen" not in doc.text, name


def test_offer_url_is_the_address_of_the_built_page(
    koeln_site: tuple[KnowledgeBase, Path],
) -> None:
    _, out = koeln_site
    for base in (
        "https://intranet.example/vereinbarkeit",
        "https://intranet.example/vereinbarkeit/",
        "https://intranet.example/vereinbarkeit/index.html",
    ):
        url = offer_url(base, "gleitzeit")
        assert url == "https://intranet.example/vereinbarkeit/eintrag/gleitzeit.html"
        assert (out / url.removeprefix("https://intranet.example/vereinbarkeit/")).is_file()


@pytest.mark.parametrize("bad", ["", "Gleitzeit", "../index", "a b", "x" * 41])
def test_offer_url_refuses_what_is_no_entry_id(bad: str) -> None:
    with pytest.raises(ValueError, match="keine gültige id"):
        offer_url("https://intranet.example", bad)


def test_chat_link_shape() -> None:
    assert chat_link("@VereinbarTestBot", "gleitzeit") == (
        "https://t.me/VereinbarTestBot?start=gleitzeit"
    )
    assert chat_link("vereinbar_bot") == "https://t.me/vereinbar_bot"
    for bad in ("x", "VereinbarTest", "Vereinbar Bot", "a" * 40 + "bot"):
        with pytest.raises(ValueError, match="kein Telegram-Bot-Name"):
            chat_link(bad)


# --- search index -------------------------------------------------------------------------------


def test_search_index_is_built_with_the_bots_analyzer(
    koeln_site: tuple[KnowledgeBase, Path],
) -> None:
    kb, out = koeln_site
    analyzer = SearchIndex(kb, snapshot_of(DEFAULT_KB).index.lexicon).analyzer
    script = (out / "static/suchindex.js").read_text(encoding="utf-8")
    prefix = "window.VEREINBAR_SUCHINDEX = "
    assert script.startswith(prefix)
    index = json.loads(script.removeprefix(prefix).rstrip().rstrip(";").replace("<\\/", "</"))
    assert index["norm"] == json.loads(json.dumps(normaliser_data(kb, analyzer)))
    assert index["norm"]["stop"] == sorted(analyzer.stop_words)
    stems = index["norm"]["stems"]
    for word in analyzer.words(kb.entries["gleitzeit"].answer):
        assert (stems[word] or word) == analyzer.stem(word), word
    ids = [e["id"] for e in index["entries"]]
    assert ids == list(kb.entries)
    gleitzeit = ids.index("gleitzeit")
    for term in analyzer.terms(kb.entries["gleitzeit"].title + " Kernzeit"):
        assert gleitzeit in [n for n, _ in index["terms"][term]["p"]], term
    for entry in index["entries"]:
        assert (out / entry["url"]).is_file()


def test_snippet_cuts_at_a_word() -> None:
    text = "Wort " * 60
    cut = snippet(text)
    assert cut.endswith(" …") and len(cut) <= 182 and "Wor …" not in cut
    assert snippet("kurz") == "kurz"


# --- escaping and safety --------------------------------------------------------------------------


def test_yaml_text_is_escaped_everywhere(tmp_path: Path, make_kb) -> None:  # type: ignore[no-untyped-def]
    directory = make_kb(
        massnahmen="""\
        massnahmen:
          - id: gleitzeit
            ref: "1.1.1"
            titel: "Gleitzeit <script>alert(1)</script> & \\"mehr\\""
            thema: arbeitszeit
            antwort: "Beginn <b>frei</b> wählen </script>"
            zielgruppe: "alle"
            status: geplant
            zustaendig: [amt-personal]
        """
    )
    out = tmp_path / "site"
    build(directory, out, bot_username=BOT)
    for path in out.rglob("*.html"):
        text = path.read_text()
        assert "<script>alert" not in text and "<b>frei" not in text, path
    page = (out / entry_path("gleitzeit")).read_text()
    assert "Gleitzeit &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;mehr&quot;" in page
    assert "</script>" not in (out / "static/suchindex.js").read_text()


def test_a_folder_with_other_files_is_never_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "share"
    out.mkdir()
    (out / "wichtig.docx").write_text("nicht anfassen")
    with pytest.raises(SiteError, match="nicht leer"):
        build(HERNE, out)
    assert (out / "wichtig.docx").read_text() == "nicht anfassen"
    assert sorted(p.name for p in out.iterdir()) == ["wichtig.docx"]


def test_a_rebuild_removes_pages_of_deleted_entries_only(tmp_path: Path) -> None:
    kb_dir = Path(__import__("shutil").copytree(HERNE, tmp_path / "kb"))
    out = tmp_path / "site"
    build(kb_dir, out)
    (out / "eigene-notiz.txt").write_text("bleibt")
    text = (kb_dir / "massnahmen.yaml").read_text(encoding="utf-8")
    start = text.index("  - id: workshop-azubis")
    following = text.find("\n  - id:", start + 1)
    (kb_dir / "massnahmen.yaml").write_text(
        text[:start] + (text[following + 1 :] if following > 0 else ""), encoding="utf-8"
    )
    snapshot = snapshot_of(kb_dir)
    assert "workshop-azubis" not in snapshot.kb.entries
    result = build_site(snapshot.kb, out, analyzer=snapshot.index.analyzer, kb_date=DAY)
    assert result.removed == ("eintrag/workshop-azubis.html",)
    assert not (out / "eintrag/workshop-azubis.html").exists()
    assert (out / "eigene-notiz.txt").read_text() == "bleibt"


def test_a_tampered_manifest_cannot_delete_outside_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(HERNE, out)
    victim = tmp_path / "opfer.txt"
    victim.write_text("bleibt")
    (out / MANIFEST).write_text(json.dumps(["../opfer.txt", "/etc/hostname", "index.html"]))
    build(HERNE, out)
    assert victim.read_text() == "bleibt"


def test_preview_server_listens_on_loopback_only(koeln_site: tuple[KnowledgeBase, Path]) -> None:
    _, out = koeln_site
    server = make_server(out, 0)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()


# --- command line ---------------------------------------------------------------------------------


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="python -m bot")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No .env or settings of the developer's machine leak into a command."""
    for name in list(os.environ):
        if name.startswith(("BOT_", "TELEGRAM_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_site_command_builds_herne(tmp_path: Path) -> None:
    result = run("site", "--kb", HERNE, "--out", tmp_path / "portal", "--bot-username", BOT)
    assert result.exit_code == 0, result.output
    kb = load_knowledge(HERNE)
    pages = 2 * (len(FIXED_PAGES) + len(kb.topics) + len(kb.entries))
    assert (
        f"Portal geschrieben: {tmp_path / 'portal'} – {pages} Seiten auf Deutsch und Englisch, "
        "Stadt Herne"
    ) in (result.stderr)
    assert (tmp_path / "portal/index.html").is_file()


def test_site_command_defaults_to_the_configured_knowledge_base(tmp_path: Path) -> None:
    result = run("site", "--out", tmp_path / "portal")
    assert result.exit_code == 0, result.output
    assert "Stadt Köln" in (tmp_path / "portal/index.html").read_text()
    assert "ohne --bot-username keine Links" in result.stderr


def test_site_command_needs_a_target(tmp_path: Path) -> None:
    result = run("site")
    assert result.exit_code == 1
    assert result.stderr.startswith("Fehler: --out ORDNER fehlt")


def test_site_command_refuses_a_bad_bot_name(tmp_path: Path) -> None:
    result = run("site", "--out", tmp_path / "p", "--bot-username", "kein name")
    assert result.exit_code == 1
    assert "ist kein Telegram-Bot-Name" in result.stderr
    assert "Traceback" not in result.output


def test_site_command_reports_a_broken_knowledge_base_in_german(
    tmp_path: Path, koeln_copy: Path
) -> None:
    (koeln_copy / "themen.yaml").write_text("themen:\n  - id: x\n", encoding="utf-8")
    result = run("site", "--kb", koeln_copy, "--out", tmp_path / "p")
    assert result.exit_code == 1
    assert "Die Wissensbasis ist fehlerhaft" in result.stderr
    assert not (tmp_path / "p").exists()


def _lines(stream: IO[str]) -> queue.Queue[str]:
    """A child's output line by line; read in a thread so a hung child cannot hang the test."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
    return lines


def test_site_serve_previews_on_127_0_0_1_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TELEGRAM_"))}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    child = subprocess.Popen(
        [sys.executable, "-m", "bot", "site", "--kb", str(HERNE), "--serve", "--port", "0"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stderr is not None
        output = _lines(child.stderr)
        lines = [output.get(timeout=120) for _ in range(3)]
        assert lines[0].startswith("Portal geschrieben: ")
        match = re.match(r"Vorschau: (http://127\.0\.0\.1:(\d+)/) – beenden mit Strg\+C", lines[2])
        assert match, lines
        scratch = Path(lines[0].removeprefix("Portal geschrieben: ").split(" – ")[0])
        with urllib.request.urlopen(match.group(1) + "index.html") as response:
            assert response.status == 200
            assert "Stadt Herne" in response.read().decode()
        with urllib.request.urlopen(match.group(1) + "static/suche.js") as response:
            assert response.headers["Content-Type"].startswith("text/javascript")
    finally:
        child.send_signal(signal.SIGINT)
        code = child.wait(timeout=120)
        if child.stderr is not None:
            child.stderr.close()
    assert code == 0
    assert not scratch.exists(), "the temporary preview folder is removed on exit"
