"""The portal's pages as HTML, rendered from the knowledge base and nothing else.

Every text comes from the YAML (escaped) or from the portal's catalogue (``texts.<lang>.yaml``);
facts such as kind, status and the line above an untranslated answer are worded by the bot's
own card (``CardWording``, passed in), so the intranet and the chat never disagree. One
``Renderer`` renders one language: German from the knowledge base, English from its English
view (``kb.in_language("en")``). Pages share one layout template (templates/seite.html);
links are relative so the folder can be published anywhere.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from html import escape
from importlib import resources
from string import Template

from bot.knowledge.model import KIND_LABELS, STATUS_LABELS, Entry, KnowledgeBase, Topic
from bot.report.site import urls
from bot.report.site.texts import Markup, SiteTexts

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'"
)
NO_DEADLINE = "Ohne Zieltermin"
"""The group key of offers without a target date; pages show the catalogue's 'deadline.none'."""

_NAV = (
    (urls.START_PAGE, "nav.start"),
    (urls.CONTACTS_PAGE, "nav.contacts"),
    (urls.STATUS_PAGE, "nav.status"),
    (urls.SEARCH_PAGE, "nav.search"),
)
_WEB = re.compile(r"^https?://[^\s\"'<>]+$")
_EMAIL = re.compile(r"^[^\s@\"'<>]+@[^\s@\"'<>]+\.[^\s@\"'<>]+$")
_NUMBER = re.compile(r"\d+")
# Köln counts its target dates in yearly reports; the number is all an English page needs.
_YEARLY_REPORT = re.compile(r"Jahresbericht (\d{1,2})")


def _e(text: str) -> str:
    return escape(text, quote=True)


@dataclass(frozen=True, slots=True)
class Page:
    """One file of the site: where it goes (below its language's folder) and what it shows."""

    path: str
    title: str
    body: str
    breadcrumbs: tuple[tuple[str, str | None], ...] = ()
    nav: str | None = None
    scripts: tuple[str, ...] = ()
    header_search: bool = True


# --- wording shared with the bot's answer card -------------------------------------------------

StatusText = Callable[[KnowledgeBase, Entry], str | None]
"""How an entry's status is said; the ``site`` command passes the bot card's wording
(``bot.chat.cards.status_text``), which the report room cannot import itself."""

Words = Callable[[str], str]
"""A plain lookup in the bot's catalogue (``Texts.plain``): 'kind.measure', 'status.geplant',
'card.untranslated'."""


def plain_status(kb: KnowledgeBase, entry: Entry) -> str | None:
    """The status label and target date, for callers without the bot's card wording."""
    label = entry.status_label
    if label is None:
        return None
    return f"{label}, Umsetzung bis {entry.deadline}" if entry.deadline else label


def model_words(key: str) -> str:
    """The German labels of the knowledge base's model, for callers without the bot."""
    section, _, name = key.partition(".")
    labels = {"kind": KIND_LABELS, "status": STATUS_LABELS}.get(section, {})
    return labels.get(name, "")


@dataclass(frozen=True, slots=True)
class CardWording:
    """The bot card's words in one language: its status line and its catalogue lookup.

    ``words("card.untranslated")`` is the line the bot's card puts above a German answer
    shown to an English reader (``Entry.speaks``); the portal shows the same line.
    """

    status: StatusText = plain_status
    words: Words = model_words


def topic_heading(topic: Topic, texts: SiteTexts | None = None) -> str:
    """'Handlungsfeld 1: Arbeitszeit' where the source numbers its fields, else the title."""
    if not topic.number:
        return topic.title
    return (texts or SiteTexts.load("de")).plain(
        "topic_heading", number=topic.number, title=topic.title
    )


def kind_label(entry: Entry, words: Words = model_words, texts: SiteTexts | None = None) -> str:
    """'Maßnahme 1.1.1', 'Beratungsangebot' or 'Kontakt', as on the bot's card."""
    kind = words(f"kind.{entry.kind}")
    if not entry.ref:
        return kind
    return (texts or SiteTexts.load("de")).plain("kind_ref", kind=kind, ref=entry.ref)


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
    """Renders every page of one knowledge base in one language.

    ``kb`` is the view of that language (``kb.in_language``); ``prefix`` is the language's
    folder below the portal's root ("" for German, "en/" for English) and ``other`` maps the
    other languages to theirs, for the language switch. ``bot`` enables the chat links.
    """

    kb: KnowledgeBase
    kb_date: date
    bot: str | None = None
    wording: CardWording = field(default_factory=CardWording)
    texts: SiteTexts = field(default_factory=lambda: SiteTexts.load("de"))
    prefix: str = ""
    other: Mapping[str, str] = field(default_factory=dict)
    _layout: Template = field(init=False)

    def __post_init__(self) -> None:
        source = resources.files("bot.report.site").joinpath("templates/seite.html")
        self._layout = Template(source.read_text(encoding="utf-8"))

    @property
    def language(self) -> str:
        return self.texts.language

    # -- wording --

    def topic_heading(self, topic: Topic) -> str:
        return topic_heading(topic, self.texts)

    def kind_label(self, entry: Entry) -> str:
        return kind_label(entry, self.wording.words, self.texts)

    def status_label(self, entry: Entry) -> str | None:
        """The bare status word ('geplant', 'planned') as the bot's card says it."""
        return self.wording.words(f"status.{entry.status}") or None if entry.status else None

    def deadline_text(self, deadline: str) -> str:
        """A target date as the source gives it; a yearly report in the page's language."""
        if deadline == NO_DEADLINE:
            return self.texts.plain("deadline.none")
        report = _YEARLY_REPORT.fullmatch(deadline)
        if report:
            return self.texts.plain("deadline.yearly_report", number=report[1])
        return deadline

    def _short_status(self, entry: Entry) -> str:
        """'geplant, bis Jahresbericht 2' as plain text; '' without a status."""
        label = self.status_label(entry)
        if label is None:
            return ""
        if not entry.deadline:
            return label
        return self.texts.plain(
            "by_deadline", status=label, deadline=self.deadline_text(entry.deadline)
        )

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
        t = self.texts
        root = "../" * page.path.count("/")
        site_root = root + "../" * self.prefix.count("/")
        org = self.kb.organisation
        nav = "\n".join(
            f'<li><a href="{root}{path}"'
            + (' aria-current="page"' if path == page.nav else "")
            + f">{t(key)}</a></li>"
            for path, key in _NAV
        )
        return self._layout.substitute(
            lang=_e(self.language),
            csp=CSP,
            title=t("site.title", page=page.title, org=org.name),
            alternates=self._alternates(page),
            root=root,
            site_root=site_root,
            skip=t("site.skip"),
            brand=t("site.brand"),
            org=_e(org.name),
            switch=self._switch(page),
            search=self._header_search(root) if page.header_search else "",
            nav_label=t("site.nav_label"),
            nav=nav,
            breadcrumbs=self._breadcrumbs(page, root),
            body=page.body,
            footer=self._footer(),
            scripts="\n".join(f'<script src="{site_root}{s}"></script>' for s in page.scripts),
        )

    def _other_href(self, page: Page, prefix: str) -> str:
        here = posixpath.dirname(self.prefix + page.path) or "."
        return posixpath.relpath(prefix + page.path, here)

    def _alternates(self, page: Page) -> str:
        return "\n".join(
            f'<link rel="alternate" hreflang="{_e(lang)}" href="{_e(self._other_href(page, p))}">'
            for lang, p in self.other.items()
        )

    def _switch(self, page: Page) -> str:
        """The link to this page in the other language, named in that language."""
        lang = self.texts.plain("site.switch_language")
        if lang not in self.other:
            return ""
        href = _e(self._other_href(page, self.other[lang]))
        return (
            f'<p class="sprache"><a href="{href}" hreflang="{_e(lang)}" lang="{_e(lang)}">'
            f"{self.texts('site.switch')}</a></p>"
        )

    def _header_search(self, root: str) -> str:
        t = self.texts
        return (
            f'<form class="kopf-suche" role="search" action="{root}{urls.SEARCH_PAGE}" '
            'method="get">\n'
            f'<label for="kopf-q">{t("header_search.label")}</label>\n'
            '<span class="feld-knopf"><input id="kopf-q" name="q" type="search" '
            'autocomplete="off" enterkeyhint="search">\n'
            f'<button type="submit">{t("header_search.button")}</button></span>\n</form>'
        )

    def _breadcrumbs(self, page: Page, root: str) -> str:
        if not page.breadcrumbs:
            return ""
        items = [f'<li><a href="{root}{urls.START_PAGE}">{self.texts("nav.start")}</a></li>']
        for label, path in page.breadcrumbs:
            if path is None:
                items.append(f'<li aria-current="page">{_e(label)}</li>')
            else:
                items.append(f'<li><a href="{root}{path}">{_e(label)}</a></li>')
        return (
            f'<nav class="pfad" aria-label="{self.texts("site.crumbs_label")}">\n'
            '<ol class="rahmen">\n' + "\n".join(items) + "\n</ol>\n</nav>"
        )

    def _footer(self) -> str:
        t = self.texts
        same = t("footer.same_source")
        if self.bot:
            link = Markup(f'<a href="{_e(urls.chat_link(self.bot))}">@{_e(self.bot)}</a>')
            same = Markup(f"{same} {t('footer.chat', link=link)}")
        version = t(
            "footer.version",
            version=self.kb.version,
            iso=self.kb_date.isoformat(),
            date=self.kb_date.strftime(t.plain("site.date_format")),
        )
        return (
            f'<p class="stand-wb">{version}</p>\n'
            f"<p>{t('footer.source', source=self._source())}</p>\n"
            f"<p>{same}</p>"
        )

    # -- links and small parts --

    @staticmethod
    def _link(page: str, target: str, text: str) -> Markup:
        href = posixpath.relpath(target, posixpath.dirname(page) or ".")
        return Markup(f'<a href="{_e(href)}">{_e(text)}</a>')

    def _status_html(self, entry: Entry) -> str:
        """The status in the bot card's wording; its leading status word also as a badge."""
        text = self.wording.status(self.kb, entry)
        if text is None:
            return ""
        label = self.status_label(entry) or ""
        if not label or not text.startswith(label):
            return _e(text)
        rest = text[len(label) :]
        return f'<span class="stand stand-{_e(entry.status or "")}">{_e(label)}</span>{_e(rest)}'

    def _meta(self, entry: Entry, *, topic: bool = False) -> str:
        parts = [_e(self.kind_label(entry))]
        if topic and entry.topic in self.kb.topics:
            parts.append(_e(self.topic_heading(self.kb.topics[entry.topic])))
        label = self.status_label(entry)
        if label:
            short = f'<span class="stand stand-{_e(entry.status or "")}">{_e(label)}</span>'
            if entry.deadline:
                rest = self._short_status(entry)[len(label) :]
                short += _e(rest)
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
            f'<p class="chat"><a class="knopf" href="{_e(href)}">{self.texts("chat.button")}</a> '
            f'<span class="meta">{self.texts("chat.hint")}</span></p>'
        )

    def _contact_facts(self, contact: Entry) -> list[tuple[str, str]]:
        t = self.texts.plain
        facts: list[tuple[str, str]] = []
        if contact.web:
            web = _e(contact.web)
            facts.append(
                (t("fact.web"), f'<a href="{web}">{web}</a>' if _WEB.match(contact.web) else web)
            )
        if contact.email:
            mail = _e(contact.email)
            facts.append(
                (
                    t("fact.email"),
                    f'<a href="mailto:{mail}">{mail}</a>' if _EMAIL.match(contact.email) else mail,
                )
            )
        if contact.phone:
            digits = re.sub(r"[^\d+]", "", contact.phone)
            phone = _e(contact.phone)
            facts.append(
                (t("fact.phone"), f'<a href="tel:{digits}">{phone}</a>' if digits else phone)
            )
        if contact.address:
            facts.append((t("fact.address"), _e(contact.address)))
        if contact.note:
            facts.append((t("fact.note"), _e(contact.note)))
        return facts

    @staticmethod
    def _facts(facts: Iterable[tuple[str, str]]) -> str:
        rows = [f"<div><dt>{_e(term)}</dt><dd>{value}</dd></div>" for term, value in facts]
        return '<dl class="fakten">\n' + "\n".join(rows) + "\n</dl>" if rows else ""

    def _source(self) -> Markup:
        """The source, with its date unless the source's name already says it."""
        org = self.kb.organisation
        if org.as_of and org.as_of not in org.source:
            return self.texts("source_as_of", source=org.source, as_of=org.as_of)
        return Markup(_e(org.source))

    def _status_summary(self) -> str:
        present = [
            label
            for s in STATUS_LABELS
            if any(e.status == s for e in self.offers)
            and (label := self.wording.words(f"status.{s}"))
        ]
        statuses = ", ".join(present)
        dated = any(e.deadline for e in self.offers)
        return self.texts.plain("summary_dated", statuses=statuses) if dated else statuses

    def _count(self, n: int) -> Markup:
        return self.texts("no_offers") if n == 0 else self.texts.plural("offers", n)

    # -- pages --

    def start_page(self) -> Page:
        t = self.texts
        kb = self.kb
        org = kb.organisation
        page = urls.START_PAGE
        counselling = kb.counselling_contact
        parts = [
            f"<h1>{t('start.heading', org=org.name)}</h1>",
            f'<p class="einleitung">{t("start.intro", org=org.name)}</p>',
            f"<p>{t('start.source', source=self._source())}</p>",
            '<section aria-labelledby="beratung" class="hinweis">',
            f'<h2 id="beratung">{t("start.counselling_heading")}</h2>',
            "<p>"
            + t(
                "start.counselling",
                link=self._link(page, urls.entry_path(counselling.id), counselling.title),
            )
            + "</p>",
            self._facts(self._contact_facts(counselling)),
            "<p>"
            + t(
                "start.more",
                link=self._link(page, urls.CONTACTS_PAGE, t.plain("start.more_link")),
            )
            + "</p>",
        ]
        if self.bot:
            parts.append(f"<p>{t('start.chat')}</p>")
            parts.append(self._chat_button())
        parts += [
            "</section>",
            '<section aria-labelledby="themen">',
            f'<h2 id="themen">{t("start.topics")}</h2>',
            '<ul class="kacheln">',
        ]
        for topic in kb.topics.values():
            count = sum(1 for e in kb.in_topic(topic.id) if e.kind != "contact")
            link = self._link(page, urls.topic_path(topic.id), self.topic_heading(topic))
            parts.append(
                f"<li><h3>{link}</h3>"
                + (f"<p>{_e(topic.description)}</p>" if topic.description else "")
                + f'<p class="meta">{self._count(count)}</p></li>'
            )
        parts += [
            "</ul>",
            "</section>",
            '<section aria-labelledby="ueberblick">',
            f'<h2 id="ueberblick">{t("start.overview")}</h2>',
            '<ul class="liste">',
            f"<li>{self._link(page, urls.STATUS_PAGE, t.plain('start.status_link'))}"
            f'<span class="meta">{_e(self._status_summary())}</span></li>',
            f"<li>{self._link(page, urls.CONTACTS_PAGE, t.plain('start.contacts_link'))}</li>",
            f"<li>{self._link(page, urls.SEARCH_PAGE, t.plain('start.az_link'))}</li>",
            "</ul>",
            "</section>",
        ]
        return Page(
            page, t.plain("start.title"), "\n".join(p for p in parts if p), nav=urls.START_PAGE
        )

    def topic_page(self, topic: Topic) -> Page:
        t = self.texts
        page = urls.topic_path(topic.id)
        entries = self.kb.in_topic(topic.id)
        offers = [e for e in entries if e.kind != "contact"]
        contacts = [e for e in entries if e.kind == "contact"]
        heading = self.topic_heading(topic)
        parts = [f"<h1>{_e(heading)}</h1>"]
        if topic.description:
            parts.append(f'<p class="einleitung">{_e(topic.description)}</p>')
        if topic.note:
            parts.append(f'<p class="hinweis">{t("topic.note", note=topic.note)}</p>')
        parts.append(f'<h2 id="angebote">{t("topic.offers")}</h2>')
        if offers:
            parts.append(self._entry_list(page, offers))
        else:
            parts.append(f"<p>{t('topic.no_offers')}</p>")
        if contacts:
            parts.append(f'<h2 id="ansprechstellen">{t("topic.contacts")}</h2>')
            parts.append(self._entry_list(page, contacts))
        return Page(page, heading, "\n".join(parts), breadcrumbs=((heading, None),))

    def entry_page(self, entry: Entry) -> Page:
        t = self.texts
        fact = t.plain
        kb = self.kb
        page = urls.entry_path(entry.id)
        topic = kb.topics.get(entry.topic or "")
        parts = [f'<p class="art">{_e(self.kind_label(entry))}</p>']
        if entry.speaks(self.language):
            parts.append(f"<h1>{_e(entry.title)}</h1>")
            parts.append(f'<p class="antwort">{_e(entry.answer)}</p>')
        else:
            # as the bot's card: the German text under one line that says so
            title_lang = "" if entry.title_en else ' lang="de"'
            parts.append(f"<h1{title_lang}>{_e(entry.title)}</h1>")
            untranslated = self.wording.words("card.untranslated")
            if untranslated:
                parts.append(f'<p class="unuebersetzt">{_e(untranslated)}</p>')
            parts.append(f'<p class="antwort" lang="de">{_e(entry.answer)}</p>')
        facts: list[tuple[str, str]] = []
        if entry.kind == "contact":
            facts.extend(self._contact_facts(entry))
        else:
            if entry.target_group:
                facts.append((fact("fact.target"), _e(entry.target_group)))
            status = self._status_html(entry)
            if status:
                facts.append((fact("fact.status"), status))
            contacts = kb.contacts_of(entry)
            if contacts:
                links = ", ".join(
                    self._link(page, urls.entry_path(c.id), c.title) for c in contacts
                )
                facts.append((fact("fact.contacts"), links))
            if entry.web:
                web = _e(entry.web)
                facts.append(
                    (
                        fact("fact.web"),
                        f'<a href="{web}">{web}</a>' if _WEB.match(entry.web) else web,
                    )
                )
            if entry.note:
                facts.append((fact("fact.note"), _e(entry.note)))
        if topic:
            facts.append(
                (
                    fact("fact.topic"),
                    self._link(page, urls.topic_path(topic.id), self.topic_heading(topic)),
                )
            )
        facts.append((fact("fact.source"), _e(entry.source or kb.organisation.source)))
        parts.append(self._facts(facts))
        parts.append(self._chat_button(entry))
        contacts = kb.contacts_of(entry) if entry.kind != "contact" else []
        if contacts:
            parts.append(f'<h2 id="kontakt">{t("entry.contact")}</h2>')
            for contact in contacts:
                parts.append(
                    f"<h3>{self._link(page, urls.entry_path(contact.id), contact.title)}</h3>"
                )
                parts.append(self._facts(self._contact_facts(contact)))
        parts.extend(self._related(page, entry))
        if entry.kind == "contact":
            crumbs: tuple[tuple[str, str | None], ...] = (
                (fact("contacts.title"), urls.CONTACTS_PAGE),
                (entry.title, None),
            )
        elif topic:
            crumbs = ((self.topic_heading(topic), urls.topic_path(topic.id)), (entry.title, None))
        else:
            crumbs = ((entry.title, None),)
        return Page(page, entry.title, "\n".join(p for p in parts if p), breadcrumbs=crumbs)

    def _related(self, page: str, entry: Entry) -> Iterator[str]:
        t = self.texts
        kb = self.kb
        if entry.kind == "contact":
            duties = sorted(
                (e for e in self.offers if entry.id in e.contacts), key=lambda e: _ref_key(e)
            )
            if duties:
                yield f'<h2 id="zustaendig">{t("entry.duties")}</h2>'
                yield self._entry_list(page, duties, topic=True)
            return
        measures = [kb.by_ref[r] for r in entry.related_refs if r in kb.by_ref]
        services = [e for e in self.offers if entry.ref and entry.ref in e.related_refs]
        related = [e for e in [*measures, *services] if e.id != entry.id]
        if related:
            yield f'<h2 id="verwandt">{t("entry.related")}</h2>'
            yield self._entry_list(page, related, topic=True)
        if entry.topic:
            taken = {entry.id, *entry.contacts, *(e.id for e in related)}
            others = [e for e in kb.in_topic(entry.topic) if e.id not in taken]
            if others:
                heading = self.topic_heading(kb.topics[entry.topic])
                yield f'<h2 id="weitere">{t("entry.others", topic=heading)}</h2>'
                yield self._entry_list(page, others)

    def contacts_page(self) -> Page:
        t = self.texts
        page = urls.CONTACTS_PAGE
        counselling = self.kb.counselling_contact
        parts = [
            f"<h1>{t('contacts.title')}</h1>",
            f'<p class="einleitung">{t("contacts.intro", counselling=counselling.title)}</p>',
        ]
        for contact in self.contacts():
            duties = sum(1 for e in self.offers if contact.id in e.contacts)
            parts.append(f'<section aria-labelledby="k-{contact.id}" class="karte">')
            parts.append(
                f'<h2 id="k-{contact.id}">'
                f"{self._link(page, urls.entry_path(contact.id), contact.title)}</h2>"
            )
            if contact.id == counselling.id:
                parts.append(f'<p class="art">{t("contacts.counselling")}</p>')
            parts.append(f"<p>{_e(contact.answer)}</p>")
            parts.append(self._facts(self._contact_facts(contact)))
            if duties:
                link = self._link(page, urls.entry_path(contact.id), t.plain("contacts.show_all"))
                parts.append(
                    f'<p class="meta">'
                    f"{t('contacts.duties', count=self._count(duties), link=link)}</p>"
                )
            parts.append("</section>")
        title = t.plain("contacts.title")
        return Page(
            page,
            title,
            "\n".join(p for p in parts if p),
            breadcrumbs=((title, None),),
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
        t = self.texts
        kb = self.kb
        page = urls.STATUS_PAGE
        groups = self.status_groups()
        statuses = [
            (s, label)
            for s in STATUS_LABELS
            if any(e.status == s for e in self.offers)
            and (label := self.wording.words(f"status.{s}"))
        ]
        dated = any(d != NO_DEADLINE for d, _ in groups)
        intro = t(
            "status.intro_dated" if dated else "status.intro",
            source=self._source(),
            counselling=kb.counselling_contact.title,
        )
        parts = [
            f"<h1>{t('status.heading_dated' if dated else 'status.title')}</h1>",
            f'<p class="einleitung">{intro}</p>',
            '<table class="uebersicht">',
            f"<caption>{t('status.caption')}</caption>",
            f'<thead><tr><th scope="col">{t("status.deadline")}</th>'
            + "".join(f'<th scope="col">{_e(label)}</th>' for _, label in statuses)
            + f'<th scope="col">{t("status.total")}</th></tr></thead>',
            "<tbody>",
        ]
        total = t("status.total")
        for deadline, entries in groups:
            cells = "".join(
                f'<td data-titel="{_e(label)}">{sum(1 for e in entries if e.status == s)}</td>'
                for s, label in statuses
            )
            parts.append(
                f'<tr><th scope="row">{_e(self.deadline_text(deadline))}</th>{cells}'
                f'<td data-titel="{total}">{len(entries)}</td></tr>'
            )
        parts.append("</tbody>")
        totals = "".join(
            f'<td data-titel="{_e(label)}">{sum(1 for e in self.offers if e.status == s)}</td>'
            for s, label in statuses
        )
        parts.append(
            f'<tfoot><tr><th scope="row">{t("status.all")}</th>{totals}'
            f'<td data-titel="{total}">{len(self.offers)}</td></tr></tfoot>'
        )
        parts.append("</table>")
        with_refs = any(e.ref for e in self.offers)
        for number, (deadline, entries) in enumerate(groups, start=1):
            shown = self.deadline_text(deadline)
            parts.append(f'<section aria-labelledby="z-{number}">')
            parts.append(f'<h2 id="z-{number}">{_e(shown)}</h2>')
            parts.append('<table class="stand-liste">')
            caption = t("status.group_caption", deadline=shown, count=self._count(len(entries)))
            parts.append(f"<caption>{caption}</caption>")
            keys = ["status.ref"] if with_refs else []
            keys += ["status.offer", "status.topic", "status.status", "status.contacts"]
            head = "".join(f'<th scope="col">{t(k)}</th>' for k in keys)
            parts.append(f"<thead><tr>{head}</tr></thead>")
            parts.append("<tbody>")
            parts.extend(self._status_row(page, entry, with_refs=with_refs) for entry in entries)
            parts.append("</tbody>")
            parts.append("</table>")
            parts.append("</section>")
        title = t.plain("status.title")
        return Page(
            page,
            title,
            "\n".join(parts),
            breadcrumbs=((title, None),),
            nav=page,
        )

    def _status_row(self, page: str, entry: Entry, *, with_refs: bool) -> str:
        t = self.texts
        kb = self.kb
        topic = kb.topics.get(entry.topic or "")
        topic_link = (
            self._link(page, urls.topic_path(topic.id), self.topic_heading(topic)) if topic else "–"
        )
        contacts = ", ".join(_e(c.title) for c in kb.contacts_of(entry)) or "–"
        cells = (
            [f'<td data-titel="{t("status.ref")}">{_e(entry.ref or "–")}</td>'] if with_refs else []
        )
        cells += [
            f'<th scope="row" data-titel="{t("status.offer")}">'
            f"{self._link(page, urls.entry_path(entry.id), entry.title)}</th>",
            f'<td data-titel="{t("status.topic")}">{topic_link}</td>',
            f'<td data-titel="{t("status.status")}">'
            f'<span class="stand stand-{_e(entry.status or "")}">'
            f"{_e(self.status_label(entry) or '–')}</span></td>",
            f'<td data-titel="{t("status.contacts")}">{contacts}</td>',
        ]
        return f"<tr>{''.join(cells)}</tr>"

    def search_page(self) -> Page:
        t = self.texts
        page = urls.SEARCH_PAGE
        everything = sorted(self.kb.entries.values(), key=lambda e: e.title.casefold())
        parts = [
            f"<h1>{t('search.title')}</h1>",
            '<form id="suche" class="suche" role="search" action="suche.html" method="get">',
            f'<label for="q">{t("search.label")}</label>',
            f'<p id="q-hilfe" class="meta">{t("search.hint")}</p>',
            '<span class="feld-knopf"><input id="q" name="q" type="search" autocomplete="off" '
            'enterkeyhint="search" aria-describedby="q-hilfe">',
            f'<button type="submit">{t("search.button")}</button></span>',
            "</form>",
            # the script words its status line from these, so it has no language of its own
            f'<p id="suche-status" class="suche-status" role="status" aria-live="polite" '
            f'data-found="{_e(t.template("search.found"))}" '
            f'data-none="{_e(t.template("search.none"))}"></p>',
            '<ol id="treffer" class="liste treffer" hidden></ol>',
            f"<noscript><p>{t('search.noscript')}</p></noscript>",
            f'<h2 id="a-z">{t("search.az")}</h2>',
            self._entry_list(page, everything, topic=True),
        ]
        title = t.plain("search.title")
        return Page(
            page,
            title,
            "\n".join(parts),
            breadcrumbs=((title, None),),
            nav=page,
            scripts=(urls.search_index(self.language), "static/suche.js"),
            header_search=False,
        )

    def search_labels(self) -> dict[str, str]:
        """The plain-text kind line of every entry for search results."""
        labels: dict[str, str] = {}
        for entry in self.kb.entries.values():
            parts = [self.kind_label(entry)]
            if entry.topic in self.kb.topics:
                parts.append(self.topic_heading(self.kb.topics[entry.topic]))
            status = self._short_status(entry)
            if status:
                parts.append(status)
            labels[entry.id] = " · ".join(parts)
        return labels
