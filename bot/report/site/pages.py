"""The portal's pages as HTML, rendered from the knowledge base and nothing else.

Every text comes from the YAML (escaped) or is fixed German navigation copy; facts such as
status, target group and responsible offices are shown in the same words as the bot's answer
card, so the intranet and the chat never disagree. Pages share one layout template
(templates/seite.html); links are relative so the folder can be published anywhere.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from html import escape
from importlib import resources
from string import Template

from bot.knowledge.model import KIND_LABELS, STATUS_LABELS, Entry, KnowledgeBase, Topic
from bot.report.site import urls

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'"
)
NO_DEADLINE = "Ohne Zieltermin"

_NAV = (
    (urls.START_PAGE, "Start"),
    (urls.CONTACTS_PAGE, "Ansprechstellen"),
    (urls.STATUS_PAGE, "Umsetzungsstand"),
    (urls.SEARCH_PAGE, "Suche und A–Z"),
)
_WEB = re.compile(r"^https?://[^\s\"'<>]+$")
_EMAIL = re.compile(r"^[^\s@\"'<>]+@[^\s@\"'<>]+\.[^\s@\"'<>]+$")
_NUMBER = re.compile(r"\d+")


def _e(text: str) -> str:
    return escape(text, quote=True)


@dataclass(frozen=True, slots=True)
class Page:
    """One file of the site: where it goes and what it shows."""

    path: str
    title: str
    body: str
    breadcrumbs: tuple[tuple[str, str | None], ...] = ()
    nav: str | None = None
    scripts: tuple[str, ...] = ()
    header_search: bool = True


# --- wording shared with the bot's answer card -------------------------------------------------


def topic_heading(topic: Topic) -> str:
    """'Handlungsfeld 1: Arbeitszeit' where the source numbers its fields, else the title."""
    return f"Handlungsfeld {topic.number}: {topic.title}" if topic.number else topic.title


def kind_label(entry: Entry) -> str:
    """'Maßnahme 1.1.1', 'Beratungsangebot' or 'Kontakt', as on the bot's card."""
    kind = KIND_LABELS[entry.kind]
    return f"{kind} {entry.ref}" if entry.ref else kind


StatusText = Callable[[KnowledgeBase, Entry], str | None]
"""How an entry's status is said; the ``site`` command passes the bot card's wording
(``bot.chat.cards.status_text``), which the report room cannot import itself."""


def plain_status(kb: KnowledgeBase, entry: Entry) -> str | None:
    """The status label and target date, for callers without the bot's card wording."""
    label = entry.status_label
    if label is None:
        return None
    return f"{label}, Umsetzung bis {entry.deadline}" if entry.deadline else label


def _deadline_key(deadline: str) -> tuple[int, str]:
    """'Jahresbericht 2' before 'Jahresbericht 10'; the source's wording stays as it is."""
    numbers = [int(n) for n in _NUMBER.findall(deadline)]
    return (numbers[0] if numbers else 10**6, deadline.casefold())


def _ref_key(entry: Entry) -> tuple[tuple[int, ...], str]:
    ref = tuple(int(p) for p in entry.ref.split(".")) if entry.ref else (10**6,)
    return ref, entry.title.casefold()


# --- the renderer --------------------------------------------------------------------------


@dataclass
class Renderer:
    """Renders every page of one knowledge base; ``bot`` enables the 'Im Chat fragen' links."""

    kb: KnowledgeBase
    kb_date: date
    bot: str | None = None
    status_text: StatusText = plain_status
    _layout: Template = field(init=False)

    def __post_init__(self) -> None:
        source = resources.files("bot.report.site").joinpath("templates/seite.html")
        self._layout = Template(source.read_text(encoding="utf-8"))

    # -- site structure --

    @property
    def offers(self) -> list[Entry]:
        """Measures and counselling services: what the portal calls Angebote."""
        return [e for e in self.kb.entries.values() if e.kind != "contact"]

    def contacts(self) -> list[Entry]:
        """Contacts, the counselling office first (as the bot's /kontakt lists them)."""
        first = self.kb.counselling_contact
        return [first, *(c for c in self.kb.contacts() if c.id != first.id)]

    def pages(self) -> Iterator[Page]:
        yield self.start_page()
        for topic in self.kb.topics.values():
            yield self.topic_page(topic)
        for entry in self.kb.entries.values():
            yield self.entry_page(entry)
        yield self.contacts_page()
        yield self.status_page()
        yield self.search_page()

    def render(self, page: Page) -> str:
        root = "../" * page.path.count("/")
        org = self.kb.organisation
        nav = "\n".join(
            f'<li><a href="{root}{path}"'
            + (' aria-current="page"' if path == page.nav else "")
            + f">{_e(label)}</a></li>"
            for path, label in _NAV
        )
        return self._layout.substitute(
            csp=CSP,
            title=_e(f"{page.title} – Beruf und Familie bei der {org.name}"),
            root=root,
            org=_e(org.name),
            search=self._header_search(root) if page.header_search else "",
            nav=nav,
            breadcrumbs=self._breadcrumbs(page, root),
            body=page.body,
            footer=self._footer(),
            scripts="\n".join(f'<script src="{root}{s}"></script>' for s in page.scripts),
        )

    def _header_search(self, root: str) -> str:
        return (
            f'<form class="kopf-suche" role="search" action="{root}{urls.SEARCH_PAGE}" '
            'method="get">\n'
            '<label for="kopf-q">Angebote durchsuchen</label>\n'
            '<span class="feld-knopf"><input id="kopf-q" name="q" type="search" '
            'autocomplete="off" enterkeyhint="search">\n'
            '<button type="submit">Suchen</button></span>\n</form>'
        )

    def _breadcrumbs(self, page: Page, root: str) -> str:
        if not page.breadcrumbs:
            return ""
        items = [f'<li><a href="{root}{urls.START_PAGE}">Start</a></li>']
        for label, path in page.breadcrumbs:
            if path is None:
                items.append(f'<li aria-current="page">{_e(label)}</li>')
            else:
                items.append(f'<li><a href="{root}{path}">{_e(label)}</a></li>')
        return (
            '<nav class="pfad" aria-label="Sie sind hier">\n<ol class="rahmen">\n'
            + "\n".join(items)
            + "\n</ol>\n</nav>"
        )

    def _footer(self) -> str:
        kb = self.kb
        source = self._source()
        chat = ""
        if self.bot:
            chat = (
                f' Fragen beantwortet auch der Chat-Bot <a href="{_e(urls.chat_link(self.bot))}">'
                f"@{_e(self.bot)}</a> in Telegram."
            )
        return (
            f'<p class="stand-wb">Stand der Wissensbasis: Version <span class="version">'
            f'{_e(kb.version)}</span> vom <time datetime="{self.kb_date.isoformat()}">'
            f"{self.kb_date:%d.%m.%Y}</time></p>\n"
            f"<p>Quelle aller Angaben: {source}.</p>\n"
            f"<p>Diese Seiten entstehen aus derselben Wissensbasis wie die Antworten des "
            f"Chat-Bots.{chat}</p>"
        )

    # -- links and small parts --

    @staticmethod
    def _link(page: str, target: str, text: str) -> str:
        href = posixpath.relpath(target, posixpath.dirname(page) or ".")
        return f'<a href="{_e(href)}">{_e(text)}</a>'

    def _status_html(self, entry: Entry) -> str:
        """The status in the given wording; its leading status word also as a badge."""
        text = self.status_text(self.kb, entry)
        if text is None:
            return ""
        label = entry.status_label or ""
        if not label or not text.startswith(label):
            return _e(text)
        rest = text[len(label) :]
        return f'<span class="stand stand-{_e(entry.status or "")}">{_e(label)}</span>{_e(rest)}'

    def _meta(self, entry: Entry, *, topic: bool = False) -> str:
        parts = [_e(kind_label(entry))]
        if topic and entry.topic in self.kb.topics:
            parts.append(_e(topic_heading(self.kb.topics[entry.topic])))
        if entry.status_label:
            short = f'<span class="stand stand-{_e(entry.status or "")}">'
            short += f"{_e(entry.status_label)}</span>"
            if entry.deadline:
                short += f", bis {_e(entry.deadline)}"
            parts.append(short)
        return " · ".join(parts)

    def _entry_list(self, page: str, entries: Iterable[Entry], *, topic: bool = False) -> str:
        items = [
            f"<li>{self._link(page, urls.entry_path(e.id), e.title)}"
            f'<span class="meta">{self._meta(e, topic=topic)}</span></li>'
            for e in entries
        ]
        return '<ul class="liste">\n' + "\n".join(items) + "\n</ul>" if items else ""

    def _chat_button(self, entry: Entry | None = None) -> str:
        if not self.bot:
            return ""
        href = urls.chat_link(self.bot, entry.id if entry else None)
        return (
            f'<p class="chat"><a class="knopf" href="{_e(href)}">Im Chat fragen</a> '
            '<span class="meta">öffnet den Chat-Bot in Telegram</span></p>'
        )

    @staticmethod
    def _contact_facts(contact: Entry) -> list[tuple[str, str]]:
        facts: list[tuple[str, str]] = []
        if contact.web:
            web = _e(contact.web)
            facts.append(
                ("Im Internet", f'<a href="{web}">{web}</a>' if _WEB.match(contact.web) else web)
            )
        if contact.email:
            mail = _e(contact.email)
            facts.append(
                (
                    "E-Mail",
                    f'<a href="mailto:{mail}">{mail}</a>' if _EMAIL.match(contact.email) else mail,
                )
            )
        if contact.phone:
            digits = re.sub(r"[^\d+]", "", contact.phone)
            phone = _e(contact.phone)
            facts.append(("Telefon", f'<a href="tel:{digits}">{phone}</a>' if digits else phone))
        if contact.address:
            facts.append(("Anschrift", _e(contact.address)))
        if contact.note:
            facts.append(("Hinweis", _e(contact.note)))
        return facts

    @staticmethod
    def _facts(facts: Iterable[tuple[str, str]]) -> str:
        rows = [f"<div><dt>{_e(term)}</dt><dd>{value}</dd></div>" for term, value in facts]
        return '<dl class="fakten">\n' + "\n".join(rows) + "\n</dl>" if rows else ""

    def _source(self) -> str:
        """The source, with its date unless the source's name already says it."""
        org = self.kb.organisation
        if org.as_of and org.as_of not in org.source:
            return f"{_e(org.source)} (Stand {_e(org.as_of)})"
        return _e(org.source)

    def _status_summary(self) -> str:
        present = [
            STATUS_LABELS[s] for s in STATUS_LABELS if any(e.status == s for e in self.offers)
        ]
        dated = any(e.deadline for e in self.offers)
        return ", ".join(present) + (" – nach Zieltermin" if dated else "")

    def _count(self, n: int) -> str:
        return "keine Angebote" if n == 0 else ("1 Angebot" if n == 1 else f"{n} Angebote")

    # -- pages --

    def start_page(self) -> Page:
        kb = self.kb
        org = kb.organisation
        page = urls.START_PAGE
        counselling = kb.counselling_contact
        parts = [
            f"<h1>Vereinbarkeit von Beruf und Familie bei der {_e(org.name)}</h1>",
            '<p class="einleitung">Hier finden Sie die Maßnahmen und Beratungsangebote der '
            f"{_e(org.name)} zur Vereinbarkeit von Beruf und Familie, geordnet nach Themen: "
            "für wen sie gedacht sind, wie weit sie sind und wer zuständig ist.</p>",
            f"<p>Quelle: {self._source()}.</p>",
            '<section aria-labelledby="beratung" class="hinweis">',
            '<h2 id="beratung">Persönliche Beratung</h2>',
            f"<p>Persönlich weiter hilft Ihnen: "
            f"<strong>{self._link(page, urls.entry_path(counselling.id), counselling.title)}"
            "</strong>.</p>",
            self._facts(self._contact_facts(counselling)),
            "<p>Weitere Stellen finden Sie unter "
            f"{self._link(page, urls.CONTACTS_PAGE, 'Ansprechstellen')}.</p>",
        ]
        if self.bot:
            parts.append(
                "<p>Oder stellen Sie Ihre Frage in eigenen Worten dem Chat-Bot in Telegram.</p>"
            )
            parts.append(self._chat_button())
        parts += [
            "</section>",
            '<section aria-labelledby="themen">',
            '<h2 id="themen">Themen</h2>',
            '<ul class="kacheln">',
        ]
        for topic in kb.topics.values():
            count = sum(1 for e in kb.in_topic(topic.id) if e.kind != "contact")
            parts.append(
                f"<li><h3>{self._link(page, urls.topic_path(topic.id), topic_heading(topic))}"
                "</h3>"
                + (f"<p>{_e(topic.description)}</p>" if topic.description else "")
                + f'<p class="meta">{self._count(count)}</p></li>'
            )
        parts += [
            "</ul>",
            "</section>",
            '<section aria-labelledby="ueberblick">',
            '<h2 id="ueberblick">Überblick</h2>',
            '<ul class="liste">',
            f"<li>{self._link(page, urls.STATUS_PAGE, 'Umsetzungsstand aller Angebote')}"
            f'<span class="meta">{_e(self._status_summary())}</span></li>',
            f"<li>{self._link(page, urls.CONTACTS_PAGE, 'Alle Ansprechstellen')}</li>",
            f"<li>{self._link(page, urls.SEARCH_PAGE, 'Alle Angebote von A bis Z')}</li>",
            "</ul>",
            "</section>",
        ]
        return Page(page, "Start", "\n".join(p for p in parts if p), nav=urls.START_PAGE)

    def topic_page(self, topic: Topic) -> Page:
        page = urls.topic_path(topic.id)
        entries = self.kb.in_topic(topic.id)
        offers = [e for e in entries if e.kind != "contact"]
        contacts = [e for e in entries if e.kind == "contact"]
        heading = topic_heading(topic)
        parts = [f"<h1>{_e(heading)}</h1>"]
        if topic.description:
            parts.append(f'<p class="einleitung">{_e(topic.description)}</p>')
        if topic.note:
            parts.append(f'<p class="hinweis"><strong>Hinweis:</strong> {_e(topic.note)}</p>')
        parts.append('<h2 id="angebote">Angebote</h2>')
        if offers:
            parts.append(self._entry_list(page, offers))
        else:
            parts.append("<p>Zu diesem Thema enthält die Wissensbasis keine Angebote.</p>")
        if contacts:
            parts.append('<h2 id="ansprechstellen">Ansprechstellen zu diesem Thema</h2>')
            parts.append(self._entry_list(page, contacts))
        return Page(page, heading, "\n".join(parts), breadcrumbs=((heading, None),))

    def entry_page(self, entry: Entry) -> Page:
        kb = self.kb
        page = urls.entry_path(entry.id)
        topic = kb.topics.get(entry.topic or "")
        parts = [
            f'<p class="art">{_e(kind_label(entry))}</p>',
            f"<h1>{_e(entry.title)}</h1>",
            f'<p class="antwort">{_e(entry.answer)}</p>',
        ]
        facts: list[tuple[str, str]] = []
        if entry.kind == "contact":
            facts.extend(self._contact_facts(entry))
        else:
            if entry.target_group:
                facts.append(("Für wen", _e(entry.target_group)))
            status = self._status_html(entry)
            if status:
                facts.append(("Stand", status))
            contacts = kb.contacts_of(entry)
            if contacts:
                links = ", ".join(
                    self._link(page, urls.entry_path(c.id), c.title) for c in contacts
                )
                facts.append(("Zuständig", links))
            if entry.web:
                web = _e(entry.web)
                facts.append(
                    ("Im Internet", f'<a href="{web}">{web}</a>' if _WEB.match(entry.web) else web)
                )
            if entry.note:
                facts.append(("Hinweis", _e(entry.note)))
        if topic:
            facts.append(
                ("Thema", self._link(page, urls.topic_path(topic.id), topic_heading(topic)))
            )
        facts.append(("Quelle", _e(entry.source or kb.organisation.source)))
        parts.append(self._facts(facts))
        parts.append(self._chat_button(entry))
        contacts = kb.contacts_of(entry) if entry.kind != "contact" else []
        if contacts:
            parts.append('<h2 id="kontakt">Kontakt</h2>')
            for contact in contacts:
                parts.append(
                    f"<h3>{self._link(page, urls.entry_path(contact.id), contact.title)}</h3>"
                )
                parts.append(self._facts(self._contact_facts(contact)))
        parts.extend(self._related(page, entry))
        if entry.kind == "contact":
            crumbs: tuple[tuple[str, str | None], ...] = (
                ("Ansprechstellen", urls.CONTACTS_PAGE),
                (entry.title, None),
            )
        elif topic:
            crumbs = ((topic_heading(topic), urls.topic_path(topic.id)), (entry.title, None))
        else:
            crumbs = ((entry.title, None),)
        return Page(page, entry.title, "\n".join(p for p in parts if p), breadcrumbs=crumbs)

    def _related(self, page: str, entry: Entry) -> Iterator[str]:
        kb = self.kb
        if entry.kind == "contact":
            duties = sorted(
                (e for e in self.offers if entry.id in e.contacts), key=lambda e: _ref_key(e)
            )
            if duties:
                yield '<h2 id="zustaendig">Zuständig für</h2>'
                yield self._entry_list(page, duties, topic=True)
            return
        measures = [kb.by_ref[r] for r in entry.related_refs if r in kb.by_ref]
        services = [e for e in self.offers if entry.ref and entry.ref in e.related_refs]
        related = [e for e in [*measures, *services] if e.id != entry.id]
        if related:
            yield '<h2 id="verwandt">Dazugehörige Angebote</h2>'
            yield self._entry_list(page, related, topic=True)
        if entry.topic:
            taken = {entry.id, *entry.contacts, *(e.id for e in related)}
            others = [e for e in kb.in_topic(entry.topic) if e.id not in taken]
            if others:
                heading = _e(topic_heading(kb.topics[entry.topic]))
                yield f'<h2 id="weitere">Weitere Angebote im Thema „{heading}“</h2>'
                yield self._entry_list(page, others)

    def contacts_page(self) -> Page:
        page = urls.CONTACTS_PAGE
        counselling = self.kb.counselling_contact
        parts = [
            "<h1>Ansprechstellen</h1>",
            '<p class="einleitung">Alle Stellen, die in der Wissensbasis genannt sind. '
            f"Persönlich weiter hilft Ihnen zuerst: {_e(counselling.title)}.</p>",
        ]
        for contact in self.contacts():
            duties = sum(1 for e in self.offers if contact.id in e.contacts)
            parts.append(f'<section aria-labelledby="k-{contact.id}" class="karte">')
            parts.append(
                f'<h2 id="k-{contact.id}">'
                f"{self._link(page, urls.entry_path(contact.id), contact.title)}</h2>"
            )
            if contact.id == counselling.id:
                parts.append('<p class="art">Persönliche Beratung</p>')
            parts.append(f"<p>{_e(contact.answer)}</p>")
            parts.append(self._facts(self._contact_facts(contact)))
            if duties:
                parts.append(
                    f'<p class="meta">Zuständig für {self._count(duties)} – '
                    f"{self._link(page, urls.entry_path(contact.id), 'alle anzeigen')}</p>"
                )
            parts.append("</section>")
        return Page(
            page,
            "Ansprechstellen",
            "\n".join(p for p in parts if p),
            breadcrumbs=(("Ansprechstellen", None),),
            nav=page,
        )

    def status_groups(self) -> list[tuple[str, list[Entry]]]:
        """Offers grouped by target date ('Jahresbericht 1' …), undated last."""
        groups: dict[str, list[Entry]] = {}
        for entry in self.offers:
            groups.setdefault(entry.deadline or NO_DEADLINE, []).append(entry)
        order = sorted((d for d in groups if d != NO_DEADLINE), key=lambda d: _deadline_key(d)) + (
            [NO_DEADLINE] if NO_DEADLINE in groups else []
        )
        return [(d, sorted(groups[d], key=_ref_key)) for d in order]

    def status_page(self) -> Page:
        kb = self.kb
        page = urls.STATUS_PAGE
        groups = self.status_groups()
        statuses = [s for s in STATUS_LABELS if any(e.status == s for e in self.offers)]
        dated = any(d != NO_DEADLINE for d, _ in groups)
        parts = [
            "<h1>Umsetzungsstand" + (" nach Jahresbericht" if dated else "") + "</h1>",
            '<p class="einleitung">Welche Angebote geplant, in Prüfung, in Umsetzung oder '
            "verfügbar sind"
            + (", geordnet nach dem Zieltermin der Quelle" if dated else "")
            + f". Die Angaben geben den Stand der Quelle wieder: {self._source()}"
            + f". Den aktuellen Stand erfahren Sie bei {_e(kb.counselling_contact.title)}.</p>",
            '<table class="uebersicht">',
            "<caption>Anzahl der Angebote nach Zieltermin und Stand</caption>",
            '<thead><tr><th scope="col">Zieltermin</th>'
            + "".join(f'<th scope="col">{_e(STATUS_LABELS[s])}</th>' for s in statuses)
            + '<th scope="col">zusammen</th></tr></thead>',
            "<tbody>",
        ]
        for deadline, entries in groups:
            cells = "".join(
                f'<td data-titel="{_e(STATUS_LABELS[s])}">'
                f"{sum(1 for e in entries if e.status == s)}</td>"
                for s in statuses
            )
            parts.append(
                f'<tr><th scope="row">{_e(deadline)}</th>{cells}'
                f'<td data-titel="zusammen">{len(entries)}</td></tr>'
            )
        parts.append("</tbody>")
        totals = "".join(
            f'<td data-titel="{_e(STATUS_LABELS[s])}">'
            f"{sum(1 for e in self.offers if e.status == s)}</td>"
            for s in statuses
        )
        parts.append(
            f'<tfoot><tr><th scope="row">alle</th>{totals}'
            f'<td data-titel="zusammen">{len(self.offers)}</td></tr></tfoot>'
        )
        parts.append("</table>")
        with_refs = any(e.ref for e in self.offers)
        for number, (deadline, entries) in enumerate(groups, start=1):
            parts.append(f'<section aria-labelledby="z-{number}">')
            parts.append(f'<h2 id="z-{number}">{_e(deadline)}</h2>')
            parts.append('<table class="stand-liste">')
            parts.append(f"<caption>{_e(deadline)}: {self._count(len(entries))}</caption>")
            head = ['<th scope="col">Nr.</th>'] if with_refs else []
            head += ['<th scope="col">Angebot</th>', '<th scope="col">Thema</th>']
            head += ['<th scope="col">Stand</th>', '<th scope="col">Zuständig</th>']
            parts.append(f"<thead><tr>{''.join(head)}</tr></thead>")
            parts.append("<tbody>")
            parts.extend(self._status_row(page, entry, with_refs=with_refs) for entry in entries)
            parts.append("</tbody>")
            parts.append("</table>")
            parts.append("</section>")
        return Page(
            page,
            "Umsetzungsstand",
            "\n".join(parts),
            breadcrumbs=(("Umsetzungsstand", None),),
            nav=page,
        )

    def _status_row(self, page: str, entry: Entry, *, with_refs: bool) -> str:
        kb = self.kb
        topic = kb.topics.get(entry.topic or "")
        topic_link = (
            self._link(page, urls.topic_path(topic.id), topic_heading(topic)) if topic else "–"
        )
        contacts = ", ".join(_e(c.title) for c in kb.contacts_of(entry)) or "–"
        cells = [f'<td data-titel="Nr.">{_e(entry.ref or "–")}</td>'] if with_refs else []
        cells += [
            f'<th scope="row" data-titel="Angebot">'
            f"{self._link(page, urls.entry_path(entry.id), entry.title)}</th>",
            f'<td data-titel="Thema">{topic_link}</td>',
            f'<td data-titel="Stand"><span class="stand stand-{_e(entry.status or "")}">'
            f"{_e(entry.status_label or '–')}</span></td>",
            f'<td data-titel="Zuständig">{contacts}</td>',
        ]
        return f"<tr>{''.join(cells)}</tr>"

    def search_page(self) -> Page:
        page = urls.SEARCH_PAGE
        everything = sorted(self.kb.entries.values(), key=lambda e: e.title.casefold())
        parts = [
            "<h1>Suche</h1>",
            '<form id="suche" class="suche" role="search" action="suche.html" method="get">',
            '<label for="q">Wonach suchen Sie?</label>',
            '<p id="q-hilfe" class="meta">Zum Beispiel „Führung in Teilzeit“ oder „Kita“. '
            "Tippfehler und Umlaute (ä, ae) sind kein Problem.</p>",
            '<span class="feld-knopf"><input id="q" name="q" type="search" autocomplete="off" '
            'enterkeyhint="search" aria-describedby="q-hilfe">',
            '<button type="submit">Suchen</button></span>',
            "</form>",
            '<p id="suche-status" class="suche-status" role="status" aria-live="polite"></p>',
            '<ol id="treffer" class="liste treffer" hidden></ol>',
            "<noscript><p>Die Suche braucht JavaScript. Alle Angebote finden Sie unten von A "
            "bis Z.</p></noscript>",
            '<h2 id="a-z">Alle Angebote von A bis Z</h2>',
            self._entry_list(page, everything, topic=True),
        ]
        return Page(
            page,
            "Suche",
            "\n".join(parts),
            breadcrumbs=(("Suche", None),),
            nav=page,
            scripts=("static/suchindex.js", "static/suche.js"),
            header_search=False,
        )

    def search_labels(self) -> dict[str, str]:
        """The plain-text kind line of every entry for search results."""
        labels: dict[str, str] = {}
        for entry in self.kb.entries.values():
            parts = [kind_label(entry)]
            if entry.topic in self.kb.topics:
                parts.append(topic_heading(self.kb.topics[entry.topic]))
            if entry.status_label:
                parts.append(
                    entry.status_label + (f", bis {entry.deadline}" if entry.deadline else "")
                )
            labels[entry.id] = " · ".join(parts)
        return labels
