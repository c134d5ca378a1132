"""What the bot says: question, command or button in; reply with text and buttons out.

Telegram handlers and the terminal chat both call this module, so an answer looks the same in
both places. Replies use Telegram's HTML subset; every text from the knowledge base or the user
is escaped here, in one place.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Protocol

from bot.chat import actions, smalltalk
from bot.knowledge.schema import KIND_LABELS, Entry, KnowledgeBase, Problem
from bot.search.index import SearchResult
from bot.search.library import Snapshot
from bot.search.textnorm import fold

MAX_MESSAGE = 4096
MAX_QUESTION = 4096
STALE = (
    "Dieses Menü ist veraltet – die Inhalte wurden inzwischen aktualisiert. Bitte wählen Sie neu:"
)


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to send (or, with ``edit``, the new content of the message clicked)."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    edit: bool = False
    notice: str | None = None  # short toast for a button click


class LogSink(Protocol):
    """The part of the question log the conversation writes to."""

    def record(
        self,
        *,
        question: str,
        outcome: str,
        entry_id: str | None,
        topic: str | None,
        score: float | None,
        kb_version: str,
        channel: str,
        user_id: int | None,
    ) -> str: ...

    def feedback(self, question_id: str, helpful: bool) -> None: ...

    def choice(self, question_id: str, entry_id: str | None) -> None: ...

    def forget(self, user_id: int) -> int: ...


@dataclass
class Conversation:
    """Stateless per message: everything it needs is passed in or read from the snapshot."""

    snapshot: Callable[[], Snapshot]
    log: LogSink | None = None
    channel: str = "telegram"
    retention_days: int = 90
    _ids: Callable[[], str] = field(default=lambda: secrets.token_urlsafe(8))

    # --- commands -----------------------------------------------------------------------------

    def start(self, payload: str | None = None, user_id: int | None = None) -> list[Reply]:
        kb = self.snapshot().kb
        if payload:
            topic = payload.strip().lower()
            if topic in kb.topics:
                return [self.topic(topic)]
            return self.ask(payload.replace("_", " ").replace("-", " "), user_id)
        org = kb.organisation
        text = (
            f"Willkommen! Ich beantworte Ihre Fragen zur Vereinbarkeit von Beruf und Familie bei "
            f"der <b>{escape(org.name)}</b>: Arbeitszeit, mobiles Arbeiten, Kinderbetreuung, "
            "Pflege von Angehörigen, Beratung und mehr.\n\n"
            "✍️ Schreiben Sie einfach Ihre Frage, z. B. „Wie geht Elternzeit?“ oder "
            "„Meine Mutter braucht Pflege“.\n"
            "📚 Oder wählen Sie unten ein Thema.\n\n"
            "🔒 Ihre Fragen werden anonym ausgewertet, um das Angebot zu verbessern – ohne Namen "
            "oder Telegram-Kennung (/datenschutz).\n"
            f"👤 Persönlich weiter hilft: {escape(kb.counselling_contact.title)} (/kontakt)."
        )
        if org.greeting:
            text += f"\n\n{escape(org.greeting)}"
        return [Reply(text, self._topic_buttons(kb))]

    def menu(self, *, edit: bool = False) -> Reply:
        kb = self.snapshot().kb
        return Reply("📚 <b>Themen</b> – wählen Sie einen Bereich:", self._topic_buttons(kb), edit)

    def help(self) -> Reply:
        kb = self.snapshot().kb
        examples = [
            e.examples[0] for e in kb.entries.values() if e.examples and e.kind != "contact"
        ]
        sample = "\n".join(f"• {escape(q)}" for q in examples[:5])
        text = (
            "<b>So fragen Sie mich</b>\n"
            "Schreiben Sie Ihre Frage in eigenen Worten – Tippfehler und Umgangssprache sind kein "
            "Problem. Zum Beispiel:\n"
            f"{sample}\n\n"
            "<b>Befehle</b>\n"
            "/themen – alle Angebote nach Themen\n"
            "/kontakt – Ansprechstellen\n"
            "/datenschutz – was gespeichert wird\n"
            "/vergessen – Ihre gespeicherten Fragen löschen\n\n"
            "Unter jeder Antwort können Sie mit 👍 oder 👎 sagen, ob sie geholfen hat."
        )
        return Reply(text, ((self._button("📚 Themen", "menu"),),))

    def contacts(self, *, edit: bool = False) -> Reply:
        kb = self.snapshot().kb
        first = kb.counselling_contact
        ordered = [first, *(c for c in kb.contacts() if c.id != first.id)]
        lines = ["<b>Ansprechstellen</b>"]
        for contact in ordered:
            lines.append("")
            lines.append(f"<b>{escape(contact.title)}</b>")
            lines.append(escape(contact.answer))
            lines.extend(_contact_details(contact))
        return Reply("\n".join(lines), ((self._button("📚 Themen", "menu"),),), edit)

    def privacy(self) -> Reply:
        days = self.retention_days
        text = (
            "<b>Datenschutz</b>\n"
            "Was gespeichert wird: der Text Ihrer Frage (Telefonnummern, E-Mail-Adressen, IBAN und "
            "lange Nummern werden vorher entfernt), das Datum ohne Uhrzeit, welches Angebot "
            "gefunden wurde und Ihre 👍/👎-Rückmeldung.\n"
            "Was nicht gespeichert wird: Ihr Name, Ihr Benutzername, Ihre Telegram-ID oder "
            "Chat-ID. Damit Sie Ihre Fragen löschen können, wird nur ein mit einem geheimen "
            "Schlüssel gebildetes Pseudonym abgelegt; Auswertungen zeigen es nie.\n"
            f"Wie lange: Fragetexte werden nach {days} Tagen gelöscht; danach bleiben nur "
            "anonyme Zählungen (Tag, Thema, Ergebnis). Damit keine Nachricht doppelt "
            "beantwortet wird, merkt sich der Bot außerdem zwei bis drei Tage lang die "
            "laufende Nummer, die Telegram jeder eingehenden Nachricht gibt.\n"
            "Wozu: ausschließlich, um Antworten und Angebote zu verbessern. Das Projektteam sieht "
            "nur Auswertungen, nie, wer etwas gefragt hat.\n"
            "Wichtig: Chats mit Bots sind bei Telegram nicht Ende-zu-Ende-verschlüsselt. Schreiben "
            "Sie bitte keine Gesundheits- oder anderen sensiblen Daten.\n"
            "Löschen: /vergessen entfernt sofort alle Ihre gespeicherten Fragen."
        )
        return Reply(text)

    def forget(self, user_id: int | None) -> Reply:
        if self.log is None or user_id is None:
            return Reply("Es sind keine Fragen von Ihnen gespeichert.")
        count = self.log.forget(user_id)
        if count == 0:
            return Reply("Es sind keine Fragen von Ihnen gespeichert.")
        noun = "Frage" if count == 1 else "Fragen"
        return Reply(f"Erledigt: {count} gespeicherte {noun} von Ihnen wurden gelöscht.")

    def only_text(self) -> Reply:
        return Reply(
            "Ich kann leider nur Textnachrichten lesen. Schreiben Sie mir Ihre Frage "
            "einfach als Text – oder stöbern Sie mit /themen."
        )

    def group_hint(self) -> Reply:
        return Reply(
            "Ich beantworte Fragen nur im privaten Chat – schreiben Sie mir bitte direkt. "
            "So bleiben Ihre Fragen unter uns."
        )

    def unknown_command(self) -> Reply:
        return Reply("Diesen Befehl kenne ich nicht. /hilfe zeigt, was ich kann.")

    def slow_down(self) -> Reply:
        return Reply(
            "Das sind gerade sehr viele Nachrichten auf einmal. Bitte warten Sie einen "
            "Moment – danach beantworte ich Ihre Fragen gern wieder."
        )

    def record_failure(self, text: str, user_id: int | None) -> None:
        """A question whose handling crashed still counts, as 'failed'."""
        self._record(_clean(text), "failed", None, self.snapshot(), user_id)

    def failure(self) -> Reply:
        kb = self.snapshot().kb
        return Reply(
            "Entschuldigung, da ist bei mir etwas schiefgegangen. Bitte versuchen Sie es "
            "gleich noch einmal – oder wenden Sie sich an "
            f"{escape(kb.counselling_contact.title)} (/kontakt)."
        )

    # --- free text ----------------------------------------------------------------------------

    def ask(self, text: str, user_id: int | None = None) -> list[Reply]:
        """Answer a question typed by an employee."""
        question = _clean(text)
        if not any(ch.isalnum() for ch in question):
            return [
                Reply(
                    "Schreiben Sie mir Ihre Frage bitte in Worten, z. B. „Wie beantrage ich "
                    "Elternzeit?“ – oder stöbern Sie mit /themen.",
                    ((self._button("📚 Themen", "menu"),),),
                )
            ]
        shortcut = self._shortcut(question)
        if shortcut is not None:
            return [shortcut]
        snap = self.snapshot()
        kind = smalltalk.classify(question)
        if kind is not None:
            self._record(question, "smalltalk", None, snap, user_id)
            return [Reply(smalltalk.REPLIES[kind])]
        result = snap.index.search(question, pad=False)
        best = result.best
        qid = self._record(
            question,
            result.outcome,
            best.entry if best else None,
            snap,
            user_id,
            best.score if best else None,
        )
        if result.outcome == "answered" and best:
            return [self._answer(snap.kb, best.entry, qid)]
        if result.outcome == "ambiguous":
            return [self._choices(result, qid)]
        return [self._unknown(snap.kb)]

    def _shortcut(self, question: str) -> Reply | None:
        """A command typed without its slash ("hilfe", "Themen") does what the command does."""
        word = fold(question).strip(" ?!.:/")
        if word.isdigit() and len(word) <= 2:
            return Reply(
                "Tippen Sie bitte auf einen der Knöpfe – oder schreiben Sie Ihre Frage in Worten.",
                ((self._button("📚 Themen", "menu"),),),
            )
        if word in ("hilfe", "help", "was kannst du", "anleitung"):
            return self.help()
        if word in ("themen", "thema", "menu", "menue", "ubersicht", "start", "alle themen"):
            return self.menu()
        if word in ("kontakt", "kontakte", "ansprechpartner", "ansprechstellen"):
            return self.contacts()
        if word in ("datenschutz", "privacy"):
            return self.privacy()
        return None

    def _record(
        self,
        question: str,
        outcome: str,
        entry: Entry | None,
        snap: Snapshot,
        user_id: int | None,
        score: float | None = None,
    ) -> str:
        if self.log is None:
            return self._ids()
        return self.log.record(
            question=question,
            outcome=outcome,
            entry_id=entry.id if entry else None,
            topic=entry.topic if entry else None,
            score=score,
            kb_version=snap.kb.version,
            channel=self.channel,
            user_id=user_id,
        )

    def _answer(self, kb: KnowledgeBase, entry: Entry, qid: str, *, edit: bool = False) -> Reply:
        buttons = (
            (
                self._button("👍 Hat geholfen", "feedback", qid, entry.id, "1"),
                self._button("👎 Nicht geholfen", "feedback", qid, entry.id, "0"),
            ),
            (self._button("📚 Themen", "menu"),),
        )
        text = card(kb, entry) + "\n\n<i>Hat das geholfen?</i>"
        return Reply(text, buttons, edit)

    def _choices(self, result: SearchResult, qid: str) -> Reply:
        rows = [
            (self._button(_label(m.entry), "choice", qid, m.entry.id),)
            for m in (result.choices or result.matches[:3])
        ]
        rows.append((self._button("Nichts davon", "none", qid),))
        return Reply("Meinten Sie eines dieser Angebote?", tuple(rows))

    def _unknown(self, kb: KnowledgeBase) -> Reply:
        contact = kb.counselling_contact
        lines = [
            "Dazu weiß ich leider nichts. 🤔",
            "",
            f"Persönlich weiter hilft Ihnen: <b>{escape(contact.title)}</b>",
            *_contact_details(contact),
            "",
            "Vielleicht finden Sie Ihr Thema auch unter /themen – oder formulieren Sie die Frage "
            "anders.",
        ]
        return Reply("\n".join(lines), ((self._button("📚 Themen", "menu"),),))

    # --- buttons ------------------------------------------------------------------------------

    def press(self, data: str | None) -> Reply:
        """Handle a button click; outdated or forged data gets a fresh menu, never an error."""
        action = actions.decode(data)
        kb = self.snapshot().kb
        if action is None:
            return self._stale(kb)
        verb, args = action.verb, action.args
        if verb == "menu":
            return self.menu(edit=True)
        if verb == "contacts":
            return self.contacts(edit=True)
        if verb == "topic":
            return self.topic(args[0], edit=True) if args[0] in kb.topics else self._stale(kb)
        entry = (
            kb.entries.get(args[-1] if verb in ("entry", "choice") else args[1])
            if verb in ("entry", "choice", "feedback")
            else None
        )
        if verb in ("entry", "choice", "feedback") and entry is None:
            return self._stale(kb)
        if verb == "entry" and entry:
            return self._browse_card(kb, entry)
        if verb == "choice" and entry:
            if self.log:
                self.log.choice(args[0], entry.id)
            return self._answer(kb, entry, args[0], edit=True)
        if verb == "none":
            if self.log:
                self.log.choice(args[0], None)
            reply = self._unknown(kb)
            return Reply(
                "Schade – danke, dass Sie es gesagt haben! Wir ergänzen das Angebot "
                "anhand solcher Rückmeldungen.\n\n" + reply.text,
                reply.buttons,
                edit=True,
                notice="Danke!",
            )
        if verb == "feedback" and entry:
            return self._feedback(kb, entry, args[0], args[2] == "1")
        return self._stale(kb)

    def topic(self, topic_id: str, *, edit: bool = False) -> Reply:
        kb = self.snapshot().kb
        topic = kb.topics[topic_id]
        items = kb.in_topic(topic_id)
        heading = f"📚 <b>{escape(topic.title)}</b>"
        if topic.number is not None:
            heading = f"📚 <b>Handlungsfeld {topic.number}: {escape(topic.title)}</b>"
        lines = [heading]
        if topic.description:
            lines.append(escape(topic.description))
        if not items:
            lines.append("")
            lines.append(escape(topic.note or "Zu diesem Thema gibt es noch keine Angebote."))
        rows = [(self._button(_label(e), "entry", e.id),) for e in items]
        rows.append((self._button("◀ Alle Themen", "menu"),))
        return Reply("\n".join(lines), tuple(rows), edit)

    def _browse_card(self, kb: KnowledgeBase, entry: Entry) -> Reply:
        rows = []
        if entry.topic and entry.topic in kb.topics:
            rows.append((self._button("◀ zurück", "topic", entry.topic),))
        rows.append((self._button("📚 Alle Themen", "menu"),))
        return Reply(card(kb, entry), tuple(rows), edit=True)

    def _feedback(self, kb: KnowledgeBase, entry: Entry, qid: str, helpful: bool) -> Reply:
        if self.log:
            self.log.feedback(qid, helpful)
        base = card(kb, entry)
        if helpful:
            return Reply(
                base + "\n\n👍 Danke für Ihre Rückmeldung!",
                ((self._button("📚 Themen", "menu"),),),
                edit=True,
                notice="Danke!",
            )
        contact = kb.counselling_contact
        lines = [
            base,
            "",
            "👎 Danke für Ihre Rückmeldung – wir verbessern die Antwort.",
            f"Persönlich weiter hilft Ihnen: <b>{escape(contact.title)}</b>",
            *_contact_details(contact),
        ]
        return Reply(
            "\n".join(lines), ((self._button("📚 Themen", "menu"),),), edit=True, notice="Danke!"
        )

    def _stale(self, kb: KnowledgeBase) -> Reply:
        return Reply(STALE, self._topic_buttons(kb), edit=True, notice="Menü veraltet")

    def _topic_buttons(self, kb: KnowledgeBase) -> tuple[tuple[Button, ...], ...]:
        buttons = [self._button(t.title, "topic", t.id) for t in kb.topics.values()]
        rows = [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
        rows.append((self._button("👤 Ansprechstellen", "contacts"),))
        return tuple(rows)

    @staticmethod
    def _button(label: str, verb: actions.Verb, *args: str) -> Button:
        return Button(label, actions.encode(verb, *args))


def card(kb: KnowledgeBase, entry: Entry) -> str:
    """The answer card: what it is, for whom, its status and whom to contact."""
    kind = KIND_LABELS[entry.kind]
    if entry.ref:
        kind = f"{kind} {entry.ref}"
    lines = [f"<b>{escape(entry.title)}</b>", f"<i>{escape(kind)}</i>", "", escape(entry.answer)]
    if entry.kind == "contact":
        lines.extend(_contact_details(entry))
        return "\n".join(lines)
    lines.append("")
    if entry.target_group:
        lines.append(f"👥 <b>Für wen:</b> {escape(entry.target_group)}")
    status = status_text(kb, entry)
    if status:
        lines.append(f"📌 <b>Stand:</b> {escape(status)}")
    if entry.web:
        lines.append(f"🌐 {escape(entry.web)}")
    contacts = kb.contacts_of(entry)
    if contacts:
        lines.append(f"📞 <b>Ansprechpartner:</b> {escape(', '.join(c.title for c in contacts))}")
        details: list[str] = []
        for contact in contacts[:3]:
            details.extend(d for d in _contact_details(contact) if d not in details)
        # Notes on where to find contact data tend to repeat each other: one is enough.
        notes = [d for d in details if d.startswith("ℹ️")]
        lines.extend(d for d in details if not d.startswith("ℹ️") or d == notes[0])
    return "\n".join(lines)


def status_text(kb: KnowledgeBase, entry: Entry) -> str | None:
    label = entry.status_label
    if label is None:
        return None
    text = label
    if entry.deadline:
        text += f", Umsetzung bis {entry.deadline}"
    if kb.organisation.as_of and entry.status != "verfuegbar":
        text += (
            f" (Stand der Vereinbarung {kb.organisation.as_of} – aktuellen Stand bitte erfragen)"
        )
    return text


def reload_message(swapped: bool, problems: Sequence[Problem], version: str) -> str:
    """What the team reads after a reload: done, or which errors keep the old version serving."""
    if swapped:
        return f"✅ Wissensbasis neu geladen (Version {escape(version)})."
    errors = [str(p) for p in problems if p.severity == "fehler"]
    shown = "\n".join(f"• {escape(e)}" for e in errors[:15])
    more = f"\n… und {len(errors) - 15} weitere" if len(errors) > 15 else ""
    return (
        f"⚠️ <b>Wissensbasis fehlerhaft</b> – es antwortet weiter die letzte gültige Version "
        f"({escape(version)}).\n{shown}{more}"
    )


def _contact_details(contact: Entry) -> list[str]:
    details = []
    for icon, value in (
        ("🌐", contact.web),
        ("✉️", contact.email),
        ("☎️", contact.phone),
        ("🏢", contact.address),
    ):
        if value:
            details.append(f"{icon} {escape(value)}")
    if contact.note and not details:
        details.append(f"ℹ️ {escape(contact.note)}")
    return details


def _label(entry: Entry) -> str:
    label = f"{entry.ref} {entry.title}" if entry.ref else entry.title
    return label if len(label) <= 60 else label[:59] + "…"


def _clean(text: str) -> str:
    """Drop control and invisible characters; keep at most one Telegram message of text."""
    kept = "".join(ch for ch in text[:MAX_QUESTION] if ch.isprintable() or ch in " \n\t")
    return " ".join(kept.split())


def split_message(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split at paragraph, then line, then word boundaries so no part exceeds ``limit``."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            pieces = line[:cut], line[cut:].lstrip()
            if current:
                parts.append(current)
                current = ""
            parts.append(pieces[0])
            line = pieces[1]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return [p for p in parts if p.strip()]
