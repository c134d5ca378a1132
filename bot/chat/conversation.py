"""What the bot says: question, command or button in; reply with text and buttons out.

Telegram handlers and the terminal chat both call this module, so an answer looks the same in
both places. Replies use Telegram's HTML subset; the wording comes from the text catalogue
(bot/chat/texts.de.yaml), which escapes every field filled in from the knowledge base or the user.

Each public method reads the knowledge base snapshot exactly once and hands it down, so a hot
reload in the middle of an update can never mix two versions (a topic that just vanished).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from bot.chat import actions, commands, smalltalk
from bot.chat.cards import MAX_MESSAGE, card, contact_details, label, split_message, status_text
from bot.chat.commands import Command
from bot.chat.texts import Html, Texts
from bot.knowledge.schema import Entry, KnowledgeBase
from bot.search.index import SearchResult
from bot.search.library import Snapshot

__all__ = [
    "MAX_MESSAGE",
    "STALE",
    "Button",
    "Conversation",
    "Reply",
    "split_message",
    "status_text",
]
MAX_QUESTION = 4096
STALE = Texts.load()("stale")  # kept for callers that compare with the outdated-menu text


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


Rows = tuple[tuple[Button, ...], ...]


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
    texts: Texts = field(default_factory=Texts.load)
    _ids: Callable[[], str] = field(default=lambda: secrets.token_urlsafe(8))

    # --- commands -----------------------------------------------------------------------------

    def start(self, payload: str | None = None, user_id: int | None = None) -> list[Reply]:
        return self._start(self.snapshot(), payload, user_id)

    def _start(self, snap: Snapshot, payload: str | None, user_id: int | None) -> list[Reply]:
        kb = snap.kb
        if payload:
            topic = payload.strip().lower()
            if topic in kb.topics:
                return [self._topic(kb, topic)]
            return self._ask(snap, payload.replace("_", " ").replace("-", " "), user_id)
        return [self._welcome(kb)]

    def menu(self, *, edit: bool = False) -> Reply:
        return self._menu(self.snapshot().kb, edit=edit)

    def help(self) -> Reply:
        return self._help(self.snapshot().kb)

    def contacts(self, *, edit: bool = False) -> Reply:
        return self._contacts(self.snapshot().kb, edit=edit)

    def topic(self, topic_id: str, *, edit: bool = False) -> Reply:
        kb = self.snapshot().kb
        return self._topic(kb, topic_id, edit=edit) if topic_id in kb.topics else self._stale(kb)

    def privacy(self) -> Reply:
        return Reply(self.texts("privacy", days=self.retention_days))

    def forget(self, user_id: int | None) -> Reply:
        t = self.texts
        if self.log is None or user_id is None:
            return Reply(t("forget.nothing"))
        count = self.log.forget(user_id)
        if count == 0:
            return Reply(t("forget.nothing"))
        return Reply(t.plural("forget.done", count))

    def only_text(self) -> Reply:
        return Reply(self.texts("only_text"))

    def group_hint(self) -> Reply:
        return Reply(self.texts("group_hint"))

    def unknown_command(self) -> Reply:
        return Reply(self.texts("command.unknown"))

    def slow_down(self) -> Reply:
        return Reply(self.texts("slow_down"))

    def record_failure(self, text: str, user_id: int | None) -> None:
        """A question whose handling crashed still counts, as 'failed'."""
        self._record(_clean(text), "failed", None, self.snapshot(), user_id)

    def failure(self) -> Reply:
        kb = self.snapshot().kb
        return Reply(self.texts("failure", counselling=kb.counselling_contact.title))

    def command_menu(self) -> list[tuple[str, str]]:
        """Telegram's command menu: (name, description) for every listed command."""
        return [(c.name, str(self.texts(f"command.{c.name}"))) for c in commands.COMMANDS if c.menu]

    def run_command(
        self, name: str, payload: str | None = None, user_id: int | None = None
    ) -> list[Reply]:
        """A /command as the terminal chat types it; team commands are unknown there."""
        command = commands.by_name(name)
        if command is None or command.team:
            return [self.unknown_command()]
        snap = self.snapshot()
        if command.action == "start":
            return self._start(snap, payload, user_id)
        return [self._command(snap.kb, command, user_id)]

    # --- free text ----------------------------------------------------------------------------

    def ask(self, text: str, user_id: int | None = None) -> list[Reply]:
        """Answer a question typed by an employee."""
        return self._ask(self.snapshot(), text, user_id)

    def _ask(self, snap: Snapshot, text: str, user_id: int | None) -> list[Reply]:
        t = self.texts
        kb = snap.kb
        question = _clean(text)
        if not any(ch.isalnum() for ch in question):
            return [Reply(t("ask.no_words"), self._topics_row())]
        shortcut = self._shortcut(kb, question, user_id)
        if shortcut is not None:
            return [shortcut]
        kind = smalltalk.classify(question)
        if kind is not None:
            self._record(question, "smalltalk", None, snap, user_id)
            return [Reply(t(f"smalltalk.{kind}"))]
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
            return [self._answer(kb, best.entry, qid)]
        if result.outcome == "ambiguous":
            return [self._choices(result, qid)]
        return [self._unknown(kb)]

    def _shortcut(self, kb: KnowledgeBase, question: str, user_id: int | None) -> Reply | None:
        """A command typed without its slash ("hilfe", "Themen") does what the command does."""
        word = question.strip(" ?!.:/")
        if word.isdigit() and len(word) <= 2:
            return Reply(self.texts("ask.number"), self._topics_row())
        command = commands.typed(question)
        return None if command is None else self._command(kb, command, user_id)

    def _command(self, kb: KnowledgeBase, command: Command, user_id: int | None) -> Reply:
        match command.action:
            case "start":
                return self._welcome(kb)
            case "menu":
                return self._menu(kb)
            case "help":
                return self._help(kb)
            case "contacts":
                return self._contacts(kb)
            case "privacy":
                return self.privacy()
            case "forget":
                return self.forget(user_id)
        return self.unknown_command()

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

    # --- replies ------------------------------------------------------------------------------

    def _welcome(self, kb: KnowledgeBase) -> Reply:
        t = self.texts
        org = kb.organisation
        text = t("start.welcome", organisation=org.name, counselling=kb.counselling_contact.title)
        if org.greeting:
            text = Html(f"{text}\n\n{t('start.greeting', greeting=org.greeting)}")
        return Reply(text, self._topic_buttons(kb))

    def _menu(self, kb: KnowledgeBase, *, edit: bool = False) -> Reply:
        return Reply(self.texts("menu.heading"), self._topic_buttons(kb), edit)

    def _help(self, kb: KnowledgeBase) -> Reply:
        t = self.texts
        examples = [
            e.examples[0] for e in kb.entries.values() if e.examples and e.kind != "contact"
        ]
        listed = [c for c in commands.COMMANDS if c.menu and c.action not in ("start", "help")]
        text = t(
            "help.text",
            examples=Html("\n".join(t("help.example", example=q) for q in examples[:5])),
            commands=Html(
                "\n".join(
                    t("help.command", name=c.name, description=t(f"command.{c.name}"))
                    for c in listed
                )
            ),
        )
        return Reply(text, self._topics_row())

    def _contacts(self, kb: KnowledgeBase, *, edit: bool = False) -> Reply:
        t = self.texts
        first = kb.counselling_contact
        ordered = [first, *(c for c in kb.contacts() if c.id != first.id)]
        lines: list[str] = [t("contacts.heading")]
        for contact in ordered:
            lines.append("")
            lines.append(t("contacts.title", title=contact.title))
            lines.append(t("contacts.answer", answer=contact.answer))
            lines.extend(contact_details(contact, t))
        return Reply("\n".join(lines), self._topics_row(), edit)

    def _answer(self, kb: KnowledgeBase, entry: Entry, qid: str, *, edit: bool = False) -> Reply:
        t = self.texts
        buttons = (
            (
                self._button(t("button.helpful"), "feedback", qid, entry.id, "1"),
                self._button(t("button.unhelpful"), "feedback", qid, entry.id, "0"),
            ),
            *self._topics_row(),
        )
        text = f"{card(kb, entry, t)}\n\n{t('feedback.question')}"
        return Reply(text, buttons, edit)

    def _choices(self, result: SearchResult, qid: str) -> Reply:
        rows = [
            (self._button(label(m.entry, self.texts), "choice", qid, m.entry.id),)
            for m in (result.choices or result.matches[:3])
        ]
        rows.append((self._button(self.texts("button.none_of_these"), "none", qid),))
        return Reply(self.texts("choices.question"), tuple(rows))

    def _unknown(self, kb: KnowledgeBase) -> Reply:
        t = self.texts
        lines = [
            t("unknown.intro"),
            "",
            *self._counselling_lines(kb),
            "",
            t("unknown.hint"),
        ]
        return Reply("\n".join(lines), self._topics_row())

    def _counselling_lines(self, kb: KnowledgeBase) -> list[Html]:
        contact = kb.counselling_contact
        return [
            self.texts("counselling.person", name=contact.title),
            *contact_details(contact, self.texts),
        ]

    # --- buttons ------------------------------------------------------------------------------

    def press(self, data: str | None, user_id: int | None = None) -> Reply:
        """Handle a button click; outdated or forged data gets a fresh menu, never an error."""
        kb = self.snapshot().kb
        action = actions.decode(data)
        if action is None:
            return self._stale(kb)
        verb, args = action.verb, action.args
        if verb == "menu":
            return self._menu(kb, edit=True)
        if verb == "contacts":
            return self._contacts(kb, edit=True)
        if verb == "topic":
            return self._topic(kb, args[0], edit=True) if args[0] in kb.topics else self._stale(kb)
        if verb == "none":
            if self.log:
                self.log.choice(args[0], None)
            reply = self._unknown(kb)
            return Reply(
                f"{self.texts('choices.none_thanks')}\n\n{reply.text}",
                reply.buttons,
                edit=True,
                notice=self.texts("notice.thanks"),
            )
        if verb not in ("entry", "choice", "feedback"):
            return self._stale(kb)
        entry = kb.entries.get(args[1] if verb == "feedback" else args[-1])
        if entry is None:
            return self._stale(kb)
        if verb == "entry":
            return self._browse_card(kb, entry)
        if verb == "choice":
            if self.log:
                self.log.choice(args[0], entry.id)
            return self._answer(kb, entry, args[0], edit=True)
        return self._feedback(kb, entry, args[0], args[2] == "1")

    def _topic(self, kb: KnowledgeBase, topic_id: str, *, edit: bool = False) -> Reply:
        t = self.texts
        topic = kb.topics[topic_id]
        items = kb.in_topic(topic_id)
        if topic.number is not None:
            heading = t("topic.heading_numbered", number=topic.number, title=topic.title)
        else:
            heading = t("topic.heading", title=topic.title)
        lines: list[str] = [heading]
        if topic.description:
            lines.append(t("topic.description", description=topic.description))
        if not items:
            lines.append("")
            lines.append(t("topic.note", note=topic.note) if topic.note else t("topic.empty"))
        rows = [(self._button(label(e, t), "entry", e.id),) for e in items]
        rows.append((self._button(t("button.all_topics"), "menu"),))
        return Reply("\n".join(lines), tuple(rows), edit)

    def _browse_card(self, kb: KnowledgeBase, entry: Entry) -> Reply:
        t = self.texts
        rows = []
        if entry.topic and entry.topic in kb.topics:
            rows.append((self._button(t("button.back"), "topic", entry.topic),))
        rows.append((self._button(t("button.browse_all_topics"), "menu"),))
        return Reply(card(kb, entry, t), tuple(rows), edit=True)

    def _feedback(self, kb: KnowledgeBase, entry: Entry, qid: str, helpful: bool) -> Reply:
        t = self.texts
        if self.log:
            self.log.feedback(qid, helpful)
        base = card(kb, entry, t)
        if helpful:
            return Reply(
                f"{base}\n\n{t('feedback.thanks')}",
                self._topics_row(),
                edit=True,
                notice=t("notice.thanks"),
            )
        lines = [base, "", t("feedback.sorry"), *self._counselling_lines(kb)]
        return Reply("\n".join(lines), self._topics_row(), edit=True, notice=t("notice.thanks"))

    def _stale(self, kb: KnowledgeBase) -> Reply:
        t = self.texts
        return Reply(t("stale"), self._topic_buttons(kb), edit=True, notice=t("notice.stale"))

    def _topic_buttons(self, kb: KnowledgeBase) -> Rows:
        buttons = [self._button(t.title, "topic", t.id) for t in kb.topics.values()]
        rows = [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
        rows.append((self._button(self.texts("button.contacts"), "contacts"),))
        return tuple(rows)

    def _topics_row(self) -> Rows:
        return ((self._button(self.texts("button.topics"), "menu"),),)

    @staticmethod
    def _button(text: str, verb: actions.Verb, *args: str) -> Button:
        return Button(str(text), actions.encode(verb, *args))


def _clean(text: str) -> str:
    """Drop control and invisible characters; keep at most one Telegram message of text."""
    kept = "".join(ch for ch in text[:MAX_QUESTION] if ch.isprintable() or ch in " \n\t")
    return " ".join(kept.split())
