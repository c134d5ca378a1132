"""The portal in a real browser: Debian's headless Chromium, driven by Playwright.

Why Playwright and not Selenium: Playwright reports console messages, page errors and every
network request as events, which is exactly what "no console errors" and "no request to
another host" need, and it starts the system Chromium through ``executable_path`` without
downloading a browser; Selenium would need chromedriver plus its BiDi/CDP extras for the same.

The sites are built from the bundled knowledge bases and served by the portal's own preview
server on 127.0.0.1; every request to any other host is aborted and fails the test. axe-core
(npm, installed by .ci/browser-deps) audits every page type; zero violations are allowed.

Without a browser these tests fail and say how to install one, unless VEREINBAR_SKIP_BROWSER=1.
"""

from __future__ import annotations

import itertools
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

import pytest
import yaml

from bot.cli import portal_wording
from bot.config import DEFAULT_KB, PROJECT_ROOT
from bot.knowledge.model import KnowledgeBase
from bot.report.site import address, build_site, chat_link, entry_path, make_server, topic_path
from bot.report.site.pages import topic_heading
from bot.report.site.searchindex import kb_texts
from bot.search.library import Library, Snapshot
from bot.search.textnorm import fold

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

SKIP_VARIABLE = "VEREINBAR_SKIP_BROWSER"
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_DEFAULT = PROJECT_ROOT / ".browser-deps" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BOT = "VereinbarTestBot"
ORGS = {"koeln": DEFAULT_KB, "herne": DEFAULT_KB.parent / "herne"}
DESKTOP = {"width": 1280, "height": 900}
# WCAG 1.4.10: 400 % zoom of a 1280 px wide window is 320 CSS px.
ZOOM_400 = {"viewport": {"width": 320, "height": 256}}
PHONE = {"viewport": {"width": 375, "height": 667}, "is_mobile": True, "has_touch": True}


def unavailable(german: str, english: str) -> NoReturn:
    """Fail loudly (or skip when asked to) with the reason in German and English."""
    text = (
        f"Browser-Tests nicht möglich: {german}. Installieren mit 'bash .ci/browser-deps' "
        f"oder bewusst überspringen mit {SKIP_VARIABLE}=1.\n"
        f"Browser tests cannot run: {english}. Install with 'bash .ci/browser-deps' or skip "
        f"them on purpose with {SKIP_VARIABLE}=1."
    )
    if os.environ.get(SKIP_VARIABLE) == "1":
        pytest.skip(text)
    pytest.fail(text, pytrace=False)


# --- fixtures -----------------------------------------------------------------------------------


@dataclass
class Built:
    root: Path
    snapshots: dict[str, Snapshot]

    @property
    def kbs(self) -> dict[str, KnowledgeBase]:
        return {name: snapshot.kb for name, snapshot in self.snapshots.items()}


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("portale")
    snapshots = {}
    for name, path in ORGS.items():
        library, problems = Library.open(path)
        assert library is not None, [str(p) for p in problems]
        snapshots[name] = snapshot = library.current
        build_site(
            snapshot.kb,
            root / name,
            analyzer=snapshot.index.analyzer,
            wording=portal_wording(),  # German and English, as the site command builds
            kb_date=date(2026, 3, 2),
            bot_username=BOT,
        )
    return Built(root, snapshots)


@pytest.fixture(scope="session")
def base_url(built: Built) -> Iterator[str]:
    server = make_server(built.root, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield address(server).rstrip("/")
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Module scope: Playwright's sync API keeps an event loop running in this thread, which
    the asyncio tests of other modules must not find when they run in the same process."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        Error = None  # reported below, outside the except block
    if Error is None:
        unavailable(
            "das Python-Paket 'playwright' fehlt",
            "the Python package 'playwright' is missing",
        )
    executable = (
        os.environ.get("VEREINBAR_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if not executable:
        unavailable(
            "kein Chromium gefunden (Debian-Paket 'chromium')",
            "no Chromium found (Debian package 'chromium')",
        )
    with sync_playwright() as playwright:
        failure = ""
        try:
            launched = playwright.chromium.launch(executable_path=executable, args=BROWSER_ARGS)
        except Error as exc:
            failure = exc.message.splitlines()[0]
        if failure:
            unavailable(
                f"Chromium ({executable}) startet nicht: {failure}",
                f"Chromium ({executable}) does not start: {failure}",
            )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    path = Path(os.environ.get("VEREINBAR_AXE_JS") or AXE_DEFAULT)
    if not path.is_file():
        unavailable(
            f"axe-core fehlt ({path})",
            f"axe-core is missing ({path})",
        )
    return path.read_text(encoding="utf-8")


@dataclass
class Watch:
    """A page whose console errors and requests to other hosts are collected."""

    page: Page
    context: BrowserContext
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return [*(f"Konsole: {e}" for e in self.errors), *(f"fremd: {u}" for u in self.foreign)]


Opener = Callable[..., Watch]


@pytest.fixture
def open_page(browser: Browser, base_url: str) -> Iterator[Opener]:
    """``open_page(**context_options)`` → a watched page; all must end without problems."""
    watches: list[Watch] = []
    allowed = urlsplit(base_url).netloc

    def opener(**options: Any) -> Watch:
        options.setdefault("viewport", DESKTOP)
        context = browser.new_context(locale="de-DE", **options)
        page = context.new_page()
        watch = Watch(page, context)

        def route(route: Any) -> None:
            url = route.request.url
            if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != allowed:
                watch.foreign.append(url)
                route.abort()
            else:
                route.continue_()

        context.route("**/*", route)
        page.on("request", lambda r: watch.requests.append(r.url))
        page.on(
            "console",
            lambda m: watch.errors.append(m.text) if m.type in ("error", "assert") else None,
        )
        page.on("pageerror", lambda e: watch.errors.append(f"{e.name}: {e.message}"))
        # a request cut short by the next navigation (net::ERR_ABORTED) is no error
        page.on(
            "requestfailed",
            lambda r: (
                None
                if "ERR_ABORTED" in (r.failure or "")
                else watch.errors.append(f"Ladefehler {r.url}: {r.failure}")
            ),
        )
        watches.append(watch)
        return watch

    yield opener
    problems = [p for w in watches for p in w.problems()]
    for watch in watches:
        watch.context.close()
    assert problems == []


@pytest.fixture
def page(open_page: Opener) -> Page:
    return open_page().page


def page_types(kb: KnowledgeBase) -> dict[str, str]:
    """One page of each kind, as paths below the organisation's folder ('en/…': English)."""
    entries = list(kb.entries.values())
    measure = next(e for e in entries if e.kind == "measure")
    counselling = next(e for e in entries if e.kind == "counselling")
    contact = kb.counselling_contact
    return {
        "start": "index.html",
        "topic": topic_path(next(iter(kb.topics))),
        "measure": entry_path(measure.id),
        "counselling": entry_path(counselling.id),
        "contact": entry_path(contact.id),
        "contacts": "kontakte.html",
        "status": "umsetzungsstand.html",
        "search": "suche.html?q=teilzeit",
        "en/start": "en/index.html",
        "en/measure": f"en/{entry_path(measure.id)}",
        "en/contact": f"en/{entry_path(contact.id)}",
        "en/status": "en/umsetzungsstand.html",
        "en/search": "en/suche.html?q=part-time",
    }


PAGE_TYPES = [
    (org, kind)
    for org in ORGS
    for kind in (
        "start",
        "topic",
        "measure",
        "counselling",
        "contact",
        "contacts",
        "status",
        "search",
        "en/start",
        "en/measure",
        "en/contact",
        "en/status",
        "en/search",
    )
]


def visit(page: Page, base_url: str, org: str, path: str) -> None:
    page.goto(f"{base_url}/{org}/{path}")
    page.wait_for_load_state("load")
    if "suche.html?q=" in path:
        page.wait_for_selector("#treffer li")


# --- navigation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("org", "topic_id", "entry_id"),
    [("koeln", "arbeitszeit", "gleitzeit"), ("herne", "fuehrung", "fuehren-in-teilzeit")],
)
def test_navigation_start_topic_offer_and_back(
    page: Page, base_url: str, built: Built, org: str, topic_id: str, entry_id: str
) -> None:
    kb = built.kbs[org]
    topic, entry = kb.topics[topic_id], kb.entries[entry_id]
    page.goto(f"{base_url}/{org}/index.html")
    assert page.title().endswith(f"Beruf und Familie bei der {kb.organisation.name}")
    page.get_by_role("link", name=topic_heading(topic), exact=True).click()
    page.wait_for_url(f"**/{org}/{topic_path(topic_id)}")
    assert page.locator("h1").inner_text() == topic_heading(topic)
    page.get_by_role("main").get_by_role("link", name=entry.title, exact=True).click()
    page.wait_for_url(f"**/{org}/{entry_path(entry_id)}")
    assert page.locator("h1").inner_text() == entry.title
    main = page.get_by_role("main")
    assert entry.answer in main.inner_text()
    chat = main.get_by_role("link", name="Im Chat fragen")
    assert chat.get_attribute("href") == chat_link(BOT, entry_id)
    if entry.ref:
        assert page.locator(".art").inner_text() == f"Maßnahme {entry.ref}"
    crumbs = page.get_by_role("navigation", name="Sie sind hier")
    crumbs.get_by_role("link", name=topic_heading(topic)).click()
    page.wait_for_url(f"**/{org}/{topic_path(topic_id)}")
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role(
        "link", name="Ansprechstellen"
    ).click()
    page.wait_for_url(f"**/{org}/kontakte.html")
    assert page.locator("h1").inner_text() == "Ansprechstellen"


def test_every_page_loads_cleanly_and_deep_links_carry_the_entry_id(
    page: Page, base_url: str, built: Built
) -> None:
    """All pages of both portals in both languages: no console error, no foreign request
    (checked by the fixture), and on entry pages the chat link opens exactly this entry."""
    visited = 0
    for org, kb in built.kbs.items():
        for path in sorted((built.root / org).rglob("*.html")):
            relative = path.relative_to(built.root / org).as_posix()
            visit(page, base_url, org, relative)
            visited += 1
            if relative.removeprefix("en/").startswith("eintrag/"):
                entry_id = relative.removeprefix("en/").removeprefix("eintrag/")
                entry_id = entry_id.removesuffix(".html")
                href = page.locator("a.knopf").get_attribute("href")
                assert href == f"https://t.me/{BOT}?start={entry_id}", relative
                assert entry_id in kb.entries
    per_language = sum(len(kb.entries) + len(kb.topics) + 4 for kb in built.kbs.values())
    assert visited == 2 * per_language  # German and English


# --- search -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("org", "query", "expected"),
    [
        ("koeln", "fuehrung teilzeit", "fuehren-in-teilzeit"),
        ("koeln", "gleitzeit kernzeti", "gleitzeit"),
        ("koeln", "Gleitziet ohne Kernzeit", "gleitzeit"),
        ("koeln", "kitaplaetze", "kita-belegplaetze"),
        ("herne", "Fuehrung in Telzeit", "fuehren-in-teilzeit"),
        ("herne", "mentroing", "mentoring-frauen"),
    ],
)
def test_search_from_the_header_finds_the_offer_despite_typos(
    page: Page, base_url: str, built: Built, org: str, query: str, expected: str
) -> None:
    page.goto(f"{base_url}/{org}/index.html")
    page.get_by_label("Angebote durchsuchen").fill(query)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/{org}/suche.html?q=*")
    page.wait_for_selector("#treffer li")
    assert page.get_by_role("status").inner_text().endswith(f"Treffer für „{query}“")
    first = page.locator("#treffer li a").first
    assert first.get_attribute("href") == entry_path(expected)
    first.click()
    page.wait_for_url(f"**/{org}/{entry_path(expected)}")
    assert page.locator("h1").inner_text() == built.kbs[org].entries[expected].title


def test_search_as_you_type_and_an_honest_no_hit(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/koeln/suche.html")
    assert page.locator("#treffer").is_hidden()
    page.get_by_label("Wonach suchen Sie?").press_sequentially("homeofice regeln")
    page.wait_for_selector("#treffer li")
    hrefs = page.locator("#treffer li a").evaluate_all("links => links.map(a => a.href)")
    assert any("homeoffice" in h or "mobiles-arbeiten" in h for h in hrefs[:3]), hrefs
    page.get_by_label("Wonach suchen Sie?").fill("xqzvw")
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('treffer').hidden")
    assert page.get_by_role("status").inner_text().startswith("Keine Treffer für „xqzvw“")


@pytest.mark.parametrize(
    ("org", "query", "expected"),
    [
        ("koeln", "flexitme without core hours", "gleitzeit"),
        ("herne", "mentoring programme for women", "mentoring-frauen"),
    ],
)
def test_search_on_an_english_page_finds_english_wording(
    page: Page, base_url: str, built: Built, org: str, query: str, expected: str
) -> None:
    """English question, English status line and results, English page behind the result."""
    page.goto(f"{base_url}/{org}/en/index.html")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_label("Search the offers").fill(query)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/{org}/en/suche.html?q=*")
    page.wait_for_selector("#treffer li")
    assert page.get_by_role("status").inner_text().endswith(f"results for “{query}”")
    english = built.kbs[org].in_language("en")
    first = page.locator("#treffer li a").first
    assert first.inner_text() == english.entries[expected].title
    first.click()
    page.wait_for_url(f"**/{org}/en/{entry_path(expected)}")
    assert page.locator("h1").inner_text() == english.entries[expected].title
    page.goto(f"{base_url}/{org}/en/suche.html?q=xqzvw")
    page.wait_for_function("document.getElementById('suche-status').textContent !== ''")
    assert page.get_by_role("status").inner_text().startswith("No results for “xqzvw”")


def test_the_language_switch_leads_to_the_same_page(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/koeln/{entry_path('gleitzeit')}")
    page.get_by_role("link", name="English", exact=True).click()
    page.wait_for_url(f"**/koeln/en/{entry_path('gleitzeit')}")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("link", name="Deutsch", exact=True).click()
    page.wait_for_url(f"**/koeln/{entry_path('gleitzeit')}")
    assert page.locator("html").get_attribute("lang") == "de"


def test_browser_normalises_text_exactly_like_the_bot(
    page: Page, base_url: str, built: Built
) -> None:
    """The browser's port of Analyzer.terms gives the bot's terms for every text of both
    knowledge bases; fold gives the bot's folding for the tricky spellings too."""
    tricky = [
        "Erzieher*innen",
        "Kolleg:innen",
        "MitarbeiterInnen",
        "Job–Sharing",
        "TZ-kompatibel",
        "part time job",
        "working from home",
        "Abteilungsleiterin",
        "Maßnahme 4.2.1 und 1.1",
        "FÜHRUNG Fuehrung führung",
        "Straße",
        "„Plötzlich Pflege“",
        "Zeit\u00adsouveränität",
        "Kita\u2011Platz",
    ]
    for (org, snapshot), language in itertools.product(built.snapshots.items(), ("de", "en")):
        analyzer = snapshot.index.analyzer
        page.goto(f"{base_url}/{org}/{'en/' if language == 'en' else ''}suche.html")
        texts = list(kb_texts(snapshot.kb, language))
        in_browser = page.evaluate("texts => texts.map(t => VereinbarSuche.terms(t))", texts)
        mismatches = [
            (text, js, analyzer.terms(text))
            for text, js in zip(texts, in_browser, strict=True)
            if js != analyzer.terms(text)
        ]
        assert mismatches == [], f"{org}/{language}: {len(mismatches)} of {len(texts)} differ"
        folded = page.evaluate("texts => texts.map(t => VereinbarSuche.fold(t))", tricky)
        assert folded == [fold(t) for t in tricky]


def test_browser_search_quality_on_the_evaluation_questions(page: Page, base_url: str) -> None:
    """An acceptable entry among the first three results for at least 95 % of the in-scope
    questions of tests/data (measured: Köln 98 %, its held-out set 99 %, Herne 96 %)."""
    sets = {
        "koeln": ["questions_koeln.yaml", "holdout_koeln.yaml"],
        "herne": ["questions_herne.yaml"],
    }
    figures = {}
    for org, files in sets.items():
        page.goto(f"{base_url}/{org}/suche.html")
        for name in files:
            items = yaml.safe_load((PROJECT_ROOT / "tests" / "data" / name).read_text("utf-8"))
            items = [i for i in items if i["erwartet"]]
            found = page.evaluate(
                "qs => qs.map(q => VereinbarSuche.search(q, 3).map(r => r.entry.id))",
                [i["frage"] for i in items],
            )
            top3 = sum(bool(set(f) & set(i["erwartet"])) for i, f in zip(items, found, strict=True))
            figures[name] = top3 / len(items)
    assert min(figures.values()) >= 0.95, figures


# --- accessibility ----------------------------------------------------------------------------


def _violations(page: Page, axe_source: str) -> list[str]:
    page.add_script_tag(content=axe_source)
    result = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags},
                                      resultTypes: ['violations']})""",
        AXE_TAGS,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} – "
        + "; ".join(", ".join(n["target"]) for n in v["nodes"][:5])
        for v in result["violations"]
    ]


@pytest.mark.parametrize(("org", "kind"), PAGE_TYPES)
@pytest.mark.parametrize("width", ["desktop", "400-prozent-zoom"])
def test_axe_finds_no_violation(
    open_page: Opener, base_url: str, built: Built, axe_source: str, org: str, kind: str, width: str
) -> None:
    # axe is injected as an inline script, which the pages' CSP rightly forbids
    options = {"bypass_csp": True, **(ZOOM_400 if width != "desktop" else {})}
    page = open_page(**options).page
    visit(page, base_url, org, page_types(built.kbs[org])[kind])
    assert _violations(page, axe_source) == []


def test_the_audit_notices_a_violation_when_there_is_one(
    open_page: Opener, base_url: str, axe_source: str
) -> None:
    """Guards the guard: an unlabelled field and pale text on a real page are reported."""
    page = open_page(bypass_csp=True).page
    visit(page, base_url, "koeln", "index.html")
    page.evaluate(
        """() => document.querySelector('main').insertAdjacentHTML('beforeend',
               '<input type="text"><p style="color:#bbbbbb">blass</p>')"""
    )
    found = " ".join(_violations(page, axe_source))
    assert "label (critical)" in found and "color-contrast (serious)" in found, found


@pytest.mark.parametrize(("org", "kind"), PAGE_TYPES)
@pytest.mark.parametrize("device", ["400-prozent-zoom", "telefon"])
def test_no_horizontal_scrolling_at_320_px_and_on_a_phone(
    open_page: Opener, base_url: str, built: Built, org: str, kind: str, device: str
) -> None:
    page = open_page(**(ZOOM_400 if device != "telefon" else PHONE)).page
    visit(page, base_url, org, page_types(built.kbs[org])[kind])
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"page is {widths[0]} px wide in a {widths[1]} px window"
    wide = page.evaluate(
        """() => [...document.querySelectorAll('main *, header *, footer *')]
                 .filter(el => el.getBoundingClientRect().right > innerWidth + 1)
                 .map(el => el.tagName + '.' + el.className).slice(0, 5)"""
    )
    assert wide == []


# --- keyboard -------------------------------------------------------------------------------------

FOCUS_STATE = """() => {
  const el = document.activeElement;
  const s = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2
                  && s.outlineColor !== 'rgba(0, 0, 0, 0)';
  return {
    tag: el.tagName, id: el.id, text: (el.textContent || '').trim().slice(0, 60),
    href: el.getAttribute('href'), inMain: !!el.closest('main'),
    indicator: outline || (s.boxShadow !== 'none' && s.boxShadow !== ''),
    visible: r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0
             && r.bottom <= innerHeight + 1 && r.right <= innerWidth + 1,
  };
}"""


def _tab(page: Page) -> dict[str, Any]:
    page.keyboard.press("Tab")
    state: dict[str, Any] = page.evaluate(FOCUS_STATE)
    return state


def _tab_to(page: Page, text: str, *, limit: int = 120) -> None:
    for _ in range(limit):
        if _tab(page)["text"] == text:
            return
    raise AssertionError(f"'{text}' is not reachable with Tab")


@pytest.mark.parametrize("org", list(ORGS))
def test_skip_link_comes_first_and_every_focus_is_visible(
    page: Page, base_url: str, org: str
) -> None:
    for path in ("index.html", "umsetzungsstand.html", "suche.html?q=teilzeit"):
        visit(page, base_url, org, path)
        first = _tab(page)
        assert (first["text"], first["href"]) == ("Zum Inhalt springen", "#inhalt")
        assert first["visible"] and first["indicator"], first
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "inhalt"
        assert _tab(page)["inMain"], "after the skip link, Tab continues inside the content"
        visit(page, base_url, org, path)
        seen = 0
        for _ in range(400):
            state = _tab(page)
            if state["tag"] == "BODY" or (seen and state["text"] == "Zum Inhalt springen"):
                break
            seen += 1
            assert state["indicator"], f"{path}: no visible focus on {state}"
            assert state["visible"], f"{path}: focused element outside the window: {state}"
        assert seen > 5, path


@pytest.mark.parametrize(
    ("org", "topic_id", "entry_id"),
    [("koeln", "familienservice", "kita-belegplaetze"), ("herne", "karriere", "mentoring-frauen")],
)
def test_keyboard_only_from_start_to_offer_and_through_the_search(
    page: Page, base_url: str, built: Built, org: str, topic_id: str, entry_id: str
) -> None:
    kb = built.kbs[org]
    page.goto(f"{base_url}/{org}/index.html")
    _tab_to(page, topic_heading(kb.topics[topic_id]))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/{topic_path(topic_id)}")
    _tab_to(page, kb.entries[entry_id].title)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/{entry_path(entry_id)}")
    _tab_to(page, "Suche und A–Z")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/{org}/suche.html")
    for _ in range(40):
        if _tab(page)["id"] == "q":
            break
    else:
        raise AssertionError("the search field is not reachable with Tab")
    page.keyboard.type(kb.entries[entry_id].title.split()[0].lower())
    page.keyboard.press("Enter")
    page.wait_for_selector("#treffer li")
    assert _tab(page)["text"] == "Suchen"
    result = _tab(page)
    assert result["inMain"] and result["href"] == page.locator("#treffer a").first.get_attribute(
        "href"
    )
    page.keyboard.press("Enter")
    page.wait_for_url("**/eintrag/*.html")


# --- print and file share ---------------------------------------------------------------------


def test_print_stylesheet_hides_navigation_and_prints_link_addresses(
    page: Page, base_url: str, built: Built
) -> None:
    entry = next(e for e in built.kbs["herne"].entries.values() if e.web and e.kind != "contact")
    visit(page, base_url, "herne", entry_path(entry.id))
    page.emulate_media(media="print")
    hidden = page.evaluate(
        """() => ['.haupt', '.kopf-suche', '.pfad', '.chat', '.sprung']
                 .map(s => getComputedStyle(document.querySelector(s)).display)"""
    )
    assert hidden == ["none"] * 5
    after = page.evaluate(
        """url => getComputedStyle(document.querySelector(`main a[href="${url}"]`), '::after')
                  .content""",
        entry.web,
    )
    assert entry.web in after
    assert page.pdf(format="A4")[:5] == b"%PDF-"


def test_the_portal_works_from_a_file_share(open_page: Opener, built: Built) -> None:
    """Opened as file:// (a folder on a network drive): pages, styles and search work."""
    watch = open_page()
    page = watch.page
    start = (built.root / "koeln" / "index.html").as_uri()
    page.goto(start)
    assert page.evaluate("getComputedStyle(document.querySelector('.kopf')).display") == "block"
    page.get_by_label("Angebote durchsuchen").fill("gleitzeit kernzeti")
    page.keyboard.press("Enter")
    page.wait_for_selector("#treffer li")
    assert page.locator("#treffer a").first.get_attribute("href") == entry_path("gleitzeit")
    assert all(urlsplit(u).scheme == "file" for u in watch.requests), watch.requests
