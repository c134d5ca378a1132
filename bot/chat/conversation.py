"""What the bot says: question, command or button in; reply with text and buttons out.

Telegram handlers and the terminal chat both call this module, so an answer looks the same in
both places, follow-ups included (bot/chat/context.py). Replies use Telegram's HTML subset; the
wording comes from the text catalogue (bot/chat/texts.<lang>.yaml), which escapes every field
filled in from the knowledge base or the user.

Each chat is answered in its language (bot/chat/language.py): a public method hands the work to
the conversation that speaks it, which shares memory, log and language choices with this one and
shows the knowledge base in that language (the search stays the same and finds German and
English wording alike).

Each public method reads the knowledge base snapshot exactly once and hands it down, so a hot
reload in the middle of an update can never mix two versions (a topic that just vanished).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from html import escape
from typing import TYPE_CHECKING, Protocol

from bot.chat import actions, commands, smalltalk
from bot.chat.cards import (
    MAX_LABEL,
    MAX_MESSAGE,
    card,
    contact_details,
    first_sentence,
    inner_quotes,
    is_note,
    label,
    one_note,
    split_message,
    status_text,
)
from bot.chat.commands import Command
from bot.chat.context import ChatMemory, Followup, FollowupLexicon, Group, Turn
from bot.chat.language import ENGLISH, GERMAN, LanguageChoice, looks_english
from bot.chat.related import linked, related, runner_ups
from bot.chat.texts import Html, Texts
from bot.knowledge.schema import Entry, KnowledgeBase, Problem
from bot.search.index import Match, SearchResult
from bot.search.library import Snapshot

if TYPE_CHECKING:  # bot.chat.handoff builds on Reply and Button from here
    from bot.chat.handoff import Handoff

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
MAX_REST_WORDS = 2  # a follow-up may name its subject again, briefly ("für Elternzeit")
MAX_LOOSE_WORDS = 5  # or add a few words that name no subject ("bis wann soll das stehen")
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
        language: str,
        followup: str | None = None,
    ) -> str: ...

    def feedback(self, question_id: str, helpful: bool) -> None: ...

    def choice(self, question_id: str, entry_id: str | None) -> None: ...

    def forget(self, user_id: int) -> int: ...


@dataclass
class Conversation:
    """Stateless per message except for ``memory`` (the last card per chat, for follow-ups)
    and ``languages`` (which language each chat is answered in).

    Everything else is passed in or read from the snapshot. ``texts`` and ``followups`` are
    this conversation's language; ``speaking`` gives the same conversation in another one.
    """

    snapshot: Callable[[], Snapshot]
    log: LogSink | None = None
    channel: str = "telegram"
    retention_days: int = 90
    texts: Texts = field(default_factory=Texts.load)
    followups: FollowupLexicon = field(default_factory=FollowupLexicon.load)
    memory: ChatMemory = field(default_factory=ChatMemory)
    handoff: Handoff | None = None  # "Frage an die Beratungsstelle" (BOT_HANDOFF_CHAT_ID)
    languages: LanguageChoice = field(default_factory=LanguageChoice)
    _ids: Callable[[], str] = field(default=lambda: secrets.token_urlsafe(8))
    _speakers: dict[str, Conversation] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._speakers.setdefault(self.texts.language, self)
        if self.handoff is not None:  # the employee reads the handoff in this language too
            self.handoff = self.handoff.speaking(self.texts)

    # --- languages ------------------------------------------------------------------------------

    def speaking(self, language: str) -> Conversation:
        """This conversation in ``language``: its own texts, everything else shared."""
        speaker = self._speakers.get(language)
        if speaker is None:
            speaker = replace(
                self,
                texts=Texts.load(language),
                followups=FollowupLexicon.load(language),
                _speakers=self._speakers,
            )
        return speaker

    def for_chat(self, user_id: int | None) -> Conversation:
        """The conversation that speaks the chat's language."""
        return self.speaking(self.languages.of(user_id))

    def hear_language(self, user_id: int | None, language_code: str | None) -> None:
        """Telegram's ``language_code`` of the user's app, noted with every update."""
        self.languages.hear(user_id, language_code)

    def texts_for(self, user_id: int | None) -> Texts:
        return self.for_chat(user_id).texts

    def _snap(self) -> Snapshot:
        """The snapshot with the knowledge base in this conversation's language."""
        snap = self.snapshot()
        kb = snap.kb.in_language(self.texts.language)
        return snap if kb is snap.kb else Snapshot(kb, snap.index)

    # --- commands -----------------------------------------------------------------------------

    def start(self, payload: str | None = None, user_id: int | None = None) -> list[Reply]:
        c = self.for_chat(user_id)
        return c._start(c._snap(), payload, user_id)

    def _start(self, snap: Snapshot, payload: str | None, user_id: int | None) -> list[Reply]:
        kb = snap.kb
        if payload:
            key = payload.strip().lower()
            if key in kb.topics:
                return [self._topic(kb, key)]
            entry = kb.entries.get(key)
            if entry is not None:  # the portal's "Im Chat fragen" links name an entry id
                self.memory.remember(user_id, Turn(entry.id, ()))
                if entry.kind == "contact":
                    return [self._contact_card(kb, entry)]
                return [self._browse_card(kb, entry, edit=False)]
            return self._ask(snap, payload.replace("_", " ").replace("-", " "), user_id)
        return [self._welcome(kb)]

    def menu(self, *, edit: bool = False, user_id: int | None = None) -> Reply:
        c = self.for_chat(user_id)
        return c._menu(c._snap().kb, edit=edit)

    def help(self, user_id: int | None = None) -> Reply:
        c = self.for_chat(user_id)
        return c._help(c._snap().kb)

    def contacts(self, *, edit: bool = False, user_id: int | None = None) -> Reply:
        c = self.for_chat(user_id)
        return c._contacts(c._snap().kb, edit=edit)

    def topic(self, topic_id: str, *, edit: bool = False, user_id: int | None = None) -> Reply:
        c = self.for_chat(user_id)
        kb = c._snap().kb
        return c._topic(kb, topic_id, edit=edit) if topic_id in kb.topics else c._stale(kb)

    def privacy(self, user_id: int | None = None) -> Reply:
        c = self.for_chat(user_id)
        minutes = round(c.memory.ttl / 60)
        text = c.texts("privacy", days=c.retention_days, minutes=minutes)
        if c.handoff is not None:
            text = Html(f"{text}\n{c.handoff.privacy()}")
        return Reply(text)

    def forget(self, user_id: int | None) -> Reply:
        """/vergessen asks first; the deletion itself is the confirming button (``press``)."""
        c = self.for_chat(user_id)
        t = c.texts
        if (self.log is None and self.handoff is None) or user_id is None:
            self.memory.forget(user_id)
            return Reply(t("forget.nothing"))
        rows = (
            (self._button(t("button.forget_yes"), "forget", "1"),),
            (self._button(t("button.forget_no"), "forget", "0"),),
        )
        text = t("forget.confirm")
        if c.handoff is not None:
            text = Html(f"{text}\n{c.handoff.forget_note()}")
        return Reply(text, rows)

    def only_text(self, user_id: int | None = None) -> Reply:
        return Reply(self.texts_for(user_id)("only_text"))

    def group_hint(self, user_id: int | None = None) -> Reply:
        return Reply(self.texts_for(user_id)("group_hint"))

    def unknown_command(self, user_id: int | None = None) -> Reply:
        return Reply(self.texts_for(user_id)("command.unknown"))

    def slow_down(self, user_id: int | None = None) -> Reply:
        return Reply(self.texts_for(user_id)("slow_down"))

    def record_failure(self, text: str, user_id: int | None) -> None:
        """A question whose handling crashed still counts, as 'failed'."""
        c = self.for_chat(user_id)
        c._record(_clean(text), "failed", None, c._snap(), user_id)

    def failure(self, user_id: int | None = None) -> Reply:
        c = self.for_chat(user_id)
        kb = c._snap().kb
        return Reply(c.texts("failure", counselling=kb.counselling_contact.title))

    def about(self, language: str | None = None) -> tuple[str, str]:
        """Telegram's bot description (shown before /start) and short description (profile),
        in ``language`` (this conversation's by default)."""
        c = self.speaking(language) if language else self
        org = c._snap().kb.organisation.name
        return (
            c.texts.plain("about.description", organisation=org),
            c.texts.plain("about.short", organisation=org),
        )

    def command_menu(self, language: str | None = None) -> list[tuple[str, str]]:
        """Telegram's command menu: (name, description) for every listed command, in
        ``language`` (this conversation's by default) with the names that language shows."""
        t = self.speaking(language).texts if language else self.texts
        return [
            (c.shown(t.language), str(t(f"command.{c.name}"))) for c in commands.COMMANDS if c.menu
        ]

    def run_command(
        self, name: str, payload: str | None = None, user_id: int | None = None
    ) -> list[Reply]:
        """A /command as the terminal chat types it; team commands are unknown there."""
        if self.handoff is not None:
            self.handoff.interrupt(user_id)
        c = self.for_chat(user_id)
        command = commands.by_name(name)
        if command is None or command.team:
            return [c.unknown_command(user_id)]
        snap = c._snap()
        if command.action == "start":
            return c._start(snap, payload, user_id)
        return [c._command(snap.kb, command, user_id)]

    # --- free text ----------------------------------------------------------------------------

    @property
    def slow_questions(self) -> bool:
        """Whether questions may need the blocking ``prepare`` (the semantic signal is on)."""
        return self.snapshot().index.semantic is not None

    def prepare(self, text: str) -> None:
        """Do a question's slow part in advance (blocking): the embedding, when the search will
        need one. Call it from a worker thread; ``ask`` then finds it cached."""
        self.snapshot().index.prepare(_clean(text))

    def ask(self, text: str, user_id: int | None = None) -> list[Reply]:
        """Answer a question typed by an employee (or a follow-up about the last card)."""
        c = self.for_chat(user_id)
        return c._ask(c._snap(), text, user_id)

    def _ask(self, snap: Snapshot, text: str, user_id: int | None) -> list[Reply]:
        t = self.texts
        kb = snap.kb
        question = _clean(text)
        if not any(ch.isalnum() for ch in question):
            return [Reply(t("ask.no_words"), self._topics_row())]
        if self.handoff is not None:  # the text of a request to the counselling office
            preview = self.handoff.typed(user_id, question)
            if preview is not None:
                return [preview]
        shortcut = self._shortcut(kb, question, user_id)
        if shortcut is not None:
            return [shortcut]
        talk = snap.index.lexicon.talk
        kind = smalltalk.classify(question, talk) or smalltalk.closing(
            question,
            talk,
            snap.index.names_subject,
            lambda rest: self.followups.detect(rest) is not None,
        )
        if kind is not None:
            self._record(question, "smalltalk", None, snap, user_id)
            return [Reply(t(f"smalltalk.{kind}"))]
        english = looks_english(question, snap.index.lexicon.english_markers)
        follow = self._read_followup(snap, question, english)
        turn = self.memory.recall(user_id)
        last = kb.entries.get(turn.entry_id or turn.card or "") if turn else None
        if follow is not None and last is not None:
            follow = follow.regarding(last.title)
        if follow is not None and turn is not None and last is not None:
            reply = self._followup(snap, question, follow, turn, last, user_id)
            if reply is not None:
                return [reply]
        # Under "Meinten Sie …?" (or guesses) only: an answered card that a reload removed
        # left runner-ups too, but the employee never saw them as choices.
        under_choices = turn is not None and turn.entry_id is None and bool(turn.runner_ups)
        if follow is not None and turn is not None and under_choices and not follow.rest:
            # "Wer ist zuständig?" under "Meinten Sie …?": which of them?
            return [self._which(snap, question, follow, turn, user_id)]
        if smalltalk.asks_for_person(question, snap.index.lexicon, snap.index.names_subject):
            # Counted on its own: how often people want a person is a figure for the team.
            qid = self._record(question, "person", None, snap, user_id)
            return [self._person(kb, qid)]
        result = snap.index.search(question, pad=False)
        if (
            follow is not None
            and turn is not None
            and last is not None
            and _still_about_the_card(snap, follow, result, last)
        ):
            reply = self._followup(snap, question, follow, turn, last, user_id, checked=True)
            if reply is not None:
                return [reply]
        best = result.best
        qid = self._record(
            question,
            result.outcome,
            best.entry if best else None,
            snap,
            user_id,
            best.score if best else None,
        )
        if self.handoff is not None:  # what its button would send, in memory only
            self.handoff.note(qid, user_id, question)
        reply = self._searched(kb, result, qid, follow, user_id)
        if self._offers_english(english, user_id):
            # An English question in a German chat: one tap re-renders this reply in English.
            offer = (self._button(t("button.english"), "english", qid),)
            reply = replace(reply, buttons=(offer, *reply.buttons))
        return [reply]

    def reads_followup(self, question: str) -> Followup | None:
        """The follow-up this conversation would read in ``question`` if a card were on
        screen (bench/e2e.py sends such questions from chats of their own)."""
        snap = self._snap()
        english = looks_english(question, snap.index.lexicon.english_markers)
        return self._read_followup(snap, question, english)

    def _read_followup(self, snap: Snapshot, question: str, english: bool) -> Followup | None:
        follow = self.followups.detect(question)
        if follow is None and not english:
            # "Jilt dat och för Beamte?": the region's words (``mundart``) read as German;
            # never in English, where "for" or "has" are no Kölsch.
            regional = snap.index.lexicon.standard_reading(question)
            if regional != question:
                follow = self.followups.detect(regional)
        if follow is None and english != (self.texts.language == ENGLISH):
            # "und wer ist zuständig?" after a switch to English (and the other way round)
            # still refers to the last card: people fall back into their first language. Only
            # when the question is in that language: "Servicezeiten vs. Gleitzeit" in a German
            # chat is no English "X vs. Y?" follow-up.
            other = ENGLISH if english else GERMAN
            follow = self.speaking(other).followups.detect(question)
        return follow

    def _offers_english(self, english: bool, user_id: int | None) -> bool:
        """Telegram decides the language (issue: German unless the app speaks English); a chat
        that never chose with /deutsch but writes ``english`` is offered the switch."""
        return english and self.texts.language != ENGLISH and self.languages.chosen(user_id) is None

    def _searched(
        self,
        kb: KnowledgeBase,
        result: SearchResult,
        qid: str,
        follow: Followup | None,
        user_id: int | None,
    ) -> Reply:
        """The reply to a searched question, by outcome."""
        t = self.texts
        best = result.best
        if result.outcome == "answered" and best:
            runners = runner_ups(result)
            self.memory.remember(user_id, Turn(best.entry.id, runners))
            return self._answer(kb, kb.entries[best.entry.id], qid, runners)
        if result.outcome == "ambiguous":
            choices = result.choices or result.matches[:3]
            self.memory.remember(user_id, Turn(None, tuple(m.entry.id for m in choices)))
            # A subject the organisation lacks: say so before offering what comes closest.
            key = "choices.missing" if result.missing else "choices.question"
            return self._choices(
                [Match(kb.entries[m.entry.id], m.score) for m in choices], qid, question_key=key
            )
        earlier = self.memory.recall(user_id)
        card = (earlier.entry_id or earlier.card) if earlier else None
        self.memory.forget(user_id)
        if follow is not None and not follow.rest:
            # "Wer ist da zuständig?" with nothing to refer to (any more): say so.
            minutes = round(self.memory.ttl / 60)
            return Reply(t("followup.no_context", minutes=minutes), self._topics_row())
        if result.redirect is not None:
            # Urlaub, Gehalt, VPN …: no offer here, but someone else is responsible.
            hint = result.redirect.redirect
            if self.texts.language == "en" and result.redirect.redirect_en:
                hint = result.redirect.redirect_en
            return self._redirect(kb, hint, qid)
        if result.suggestions:
            # Near the floor: offering a few guesses beats a bare "I don't know".
            maybe = [Match(kb.entries[m.entry.id], m.score) for m in result.suggestions]
            ids = tuple(m.entry.id for m in maybe)
            self.memory.remember(user_id, Turn(None, ids, None if result.missing else card))
            key = "choices.missing" if result.missing else "choices.maybe"
            return self._choices(maybe, qid, question_key=key)
        if card is not None and not result.missing:
            self.memory.remember(user_id, Turn(None, (), card))
        return self._unknown(kb, qid, missing=result.missing)

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
                return self.privacy(user_id)
            case "forget":
                return self.forget(user_id)
            case "language" if command.language:
                self.languages.choose(user_id, command.language)
                speaker = self.speaking(command.language)
                return speaker._switched(speaker._snap().kb)
        return self.unknown_command(user_id)

    def _record(
        self,
        question: str,
        outcome: str,
        entry: Entry | None,
        snap: Snapshot,
        user_id: int | None,
        score: float | None = None,
        followup: str | None = None,
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
            language=self.texts.language,
            followup=followup,
        )

    # --- follow-ups -----------------------------------------------------------------------------

    def _followup(
        self,
        snap: Snapshot,
        question: str,
        follow: Followup,
        turn: Turn,
        entry: Entry,
        user_id: int | None,
        *,
        checked: bool = False,
    ) -> Reply | None:
        """Answer a question about the last card from its facts; None when it speaks of
        something else (then it starts over as a question of its own). ``checked``: the
        search has already found nothing else in it.

        The question log marks them with their kind, as 'answered' (the card's facts answer
        it) or 'unknown' (the document does not say: no contact, no status or date, the group
        not named), with the card's entry and without a score: the report lists the unknown
        ones as what the entry's source leaves open.
        """
        kb = snap.kb
        if follow.kind == "difference":
            reply, answered = self._difference(snap, entry, follow.rest, turn)
        elif follow.rest and not checked and not self._about(snap, follow, entry):
            return None
        elif follow.kind == "contact":
            reply = self._who(kb, entry)
            answered = entry.kind == "contact" or bool(kb.contacts_of(entry))
        elif follow.kind == "status":
            reply = self._since_when(kb, entry)
            answered = status_text(kb, entry, self.texts) is not None and (
                entry.status == "verfuegbar" or bool(entry.deadline)
            )
        elif follow.kind == "target":
            reply, answered = self._for_whom(kb, entry, follow.groups)
        else:
            reply, answered = self._more(kb, entry, turn), True
        outcome = "answered" if answered else "unknown"
        self._record(question, outcome, entry, snap, user_id, followup=follow.kind)
        self.memory.remember(user_id, turn)  # the ten minutes count from the last exchange
        return reply

    def _which(
        self, snap: Snapshot, question: str, follow: Followup, turn: Turn, user_id: int | None
    ) -> Reply:
        """The choices again: their cards answer who, since when and for whom."""
        kb = snap.kb
        qid = self._record(question, "ambiguous", None, snap, user_id, followup=follow.kind)
        offers = [Match(kb.entries[i], 0.0) for i in turn.runner_ups if i in kb.entries]
        return self._choices(offers, qid, question_key="followup.which")

    def _about(self, snap: Snapshot, follow: Followup, entry: Entry) -> bool:
        """Whether the few words besides the follow-up cue still speak of the last card.

        "Wer ist für Elternzeit zuständig?" after the Elternzeit card is a follow-up, and so is
        "bis wann soll das stehen": its leftover words name no subject at all. Words about
        anything else ("Wann kommt das Gehalt?") or a story of its own make it a question of
        its own, searched as usual.
        """
        rest = len(follow.rest.split())
        if not follow.cued or rest > MAX_LOOSE_WORDS:
            return False
        if not snap.index.names_subject(follow.rest):
            # "bis wann soll das stehen" (words that name nothing) is about the card;
            # "wann kommt die Müllabfuhr?" names a subject the entries do not know
            return not snap.index.foreign_nouns(follow.rest)
        if rest > MAX_REST_WORDS:
            return False  # "who can help me, my mother needs care": the question anew
        found = snap.index.search(follow.rest, pad=False)
        if found.redirect is not None or found.missing:
            return False  # "Wann kommt das Gehalt?": a subject of its own, with its reply
        if found.outcome == "unknown":
            return True  # "wer regelt das": a word that only grazes some entry
        return found.best is not None and found.best.entry.id == entry.id

    def _who(self, kb: KnowledgeBase, entry: Entry) -> Reply:
        t = self.texts
        if entry.kind == "contact":
            details = contact_details(entry, t)
            lines: list[str] = [t("followup.contact.self", title=entry.title), *details]
            return Reply(one_note(Html("\n".join(lines)), t), self._contact_rows(kb, [entry]))
        contacts = kb.contacts_of(entry)
        if not contacts:
            lines = [
                t("followup.contact.none", title=inner_quotes(entry.title)),
                "",
                *self._counselling(kb),
            ]
            return Reply(one_note(Html("\n".join(lines)), t), self._topics_row())
        lines = [t("followup.contact.heading", title=inner_quotes(entry.title))]
        notes: list[str] = []
        for contact in contacts:
            lines.append(t("followup.contact.item", name=contact.title))
            for detail in contact_details(contact, t):
                (notes if is_note(detail, t) else lines).append(detail)
        lines.extend(notes[:1])  # where to find contact data: once, below all contacts
        return Reply("\n".join(lines), self._contact_rows(kb, contacts))

    def _since_when(self, kb: KnowledgeBase, entry: Entry) -> Reply:
        t = self.texts
        status = status_text(kb, entry, t)
        if status is None:
            return Reply(
                t("followup.status.none", title=inner_quotes(entry.title)), self._topics_row()
            )
        lines = [
            t("followup.status.heading", title=entry.title),
            t("followup.status.line", status=status),
        ]
        contacts = kb.contacts_of(entry)
        if entry.status != "verfuegbar":
            lines.append(t("followup.status.no_date"))
            if contacts:
                names = ", ".join(c.title for c in contacts)
                lines.append(t("followup.status.who_knows", names=names))
        return Reply("\n".join(lines), self._contact_rows(kb, contacts))

    def _for_whom(
        self, kb: KnowledgeBase, entry: Entry, groups: tuple[Group, ...]
    ) -> tuple[Reply, bool]:
        """Answered from the entry's target group; honest where the document does not say."""
        t = self.texts
        contacts = kb.contacts_of(entry)
        target = entry.target_group
        if not target:
            lines = [
                t("followup.target.none", title=inner_quotes(entry.title)),
                *self._counselling(kb),
            ]
            return Reply(one_note(Html("\n".join(lines)), t), self._topics_row()), False
        lines = [t("followup.target.heading", title=entry.title, target=target)]
        unsaid = 0
        for group in groups:
            if group.named_in(target):
                lines.append(t("followup.target.named", group=group.name))
            elif self.followups.says_everyone(target):
                lines.append(t("followup.target.everyone", group=group.name, target=target))
                unsaid += 1
            else:
                lines.append(t("followup.target.not_named", group=group.name))
                unsaid += 1
        if unsaid and contacts:
            lines.append(t("followup.target.ask", names=", ".join(c.title for c in contacts)))
        return Reply("\n".join(lines), self._contact_rows(kb, contacts)), unsaid == 0

    def _more(self, kb: KnowledgeBase, entry: Entry, turn: Turn) -> Reply:
        t = self.texts
        lines = [t("followup.more.heading", title=inner_quotes(entry.title))]
        lines.append(t("followup.more.source", source=entry.source or kb.organisation.source))
        if entry.note and entry.kind != "contact":
            lines.append(t("followup.more.note", note=entry.note))
        together = linked(kb, entry)
        if together:
            lines.append(t("followup.more.linked", titles=", ".join(e.title for e in together)))
        contacts = kb.contacts_of(entry) or [kb.counselling_contact]
        lines.append(t("followup.more.nothing_else", names=", ".join(c.title for c in contacts)))
        offers = related(kb, entry, turn.runner_ups)
        return Reply("\n".join(lines), (*self._related_rows(offers), *self._topics_row()))

    def _difference(
        self, snap: Snapshot, entry: Entry, rest: str, turn: Turn
    ) -> tuple[Reply, bool]:
        kb = snap.kb
        t = self.texts
        other: Entry | None = None
        if rest:
            result = snap.index.search(rest, pad=False)
            if result.outcome != "unknown":
                found = (m.entry.id for m in result.matches if m.entry.id != entry.id)
                other = kb.entries.get(next(found, ""))
        else:
            candidates = related(kb, entry, turn.runner_ups, next_best=True, limit=1)
            other = candidates[0] if candidates else None
        offers = related(kb, entry, turn.runner_ups)
        if other is None:
            reply = Reply(
                t("followup.difference.unknown", title=inner_quotes(entry.title)),
                (*self._related_rows(offers), *self._topics_row()),
            )
            return reply, False
        lines: list[str] = [t("followup.difference.heading")]
        for item in (entry, other):
            lines.append("")
            lines.extend(self._profile(kb, item))
        rows = (*self._related_rows([other], "button.open"), *self._topics_row())
        return Reply("\n".join(lines), rows), True

    def _profile(self, kb: KnowledgeBase, entry: Entry) -> list[Html]:
        """The facts that tell two similar offers apart: kind, gist, for whom, status, contact."""
        t = self.texts
        kind = t(f"kind.{entry.kind}")
        if entry.ref:
            kind = t("card.kind_ref", kind=kind, ref=entry.ref)
        lines = [
            t("followup.difference.item", title=entry.title, kind=kind),
            t("followup.difference.gist", gist=first_sentence(entry.answer)),
        ]
        if entry.target_group:
            lines.append(t("card.target", target=entry.target_group))
        status = status_text(kb, entry, t)
        if status:
            lines.append(t("card.status", status=status))
        contacts = kb.contacts_of(entry)
        if contacts:
            lines.append(t("card.contacts", names=", ".join(c.title for c in contacts)))
        return lines

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

    def _switched(self, kb: KnowledgeBase) -> Reply:
        """After /english or /deutsch: said in the new language, with its topic menu."""
        return Reply(self.texts("language.switched"), self._topic_buttons(kb))

    def _help(self, kb: KnowledgeBase) -> Reply:
        t = self.texts
        # Example questions are German search data; in English the offers' titles stand in.
        examples = [
            e.examples[0] if t.language == GERMAN else e.title
            for e in kb.entries.values()
            if e.examples and e.kind != "contact"
        ]
        listed = [c for c in commands.COMMANDS if c.menu and c.action not in ("start", "help")]
        text = t(
            "help.text",
            examples=Html("\n".join(t("help.example", example=q) for q in examples[:5])),
            commands=Html(
                "\n".join(
                    t("help.command", name=c.shown(t.language), description=t(f"command.{c.name}"))
                    for c in listed
                )
            ),
        )
        return Reply(text, self._topics_row())

    def _contacts(self, kb: KnowledgeBase, *, edit: bool = False) -> Reply:
        """One button per contact; each opens a short contact card."""
        first = kb.counselling_contact
        ordered = [first, *(c for c in kb.contacts() if c.id != first.id)]
        rows = [(self._button(label(c, self.texts), "contact", c.id),) for c in ordered]
        rows_after = (*self._handoff_row(), *self._topics_row())
        return Reply(self.texts("contacts.list"), (*rows, *rows_after), edit)

    def _contact_card(self, kb: KnowledgeBase, contact: Entry) -> Reply:
        t = self.texts
        offers = related(kb, contact)
        rows = (
            *self._related_rows(offers, "button.responsible_for"),
            *self._handoff_row(None, contact.id),
            (self._button(t("button.all_contacts"), "contacts"),),
            *self._topics_row(),
        )
        return Reply(card(kb, contact, t), rows, edit=True)

    def _answer(
        self,
        kb: KnowledgeBase,
        entry: Entry,
        qid: str,
        runners: tuple[str, ...] = (),
        *,
        edit: bool = False,
    ) -> Reply:
        t = self.texts
        buttons = (
            (
                self._button(t("button.helpful"), "feedback", qid, entry.id, "1"),
                self._button(t("button.unhelpful"), "feedback", qid, entry.id, "0"),
            ),
            *self._related_rows(related(kb, entry, runners)),
            *self._handoff_row(qid, entry.id),
            *self._topics_row(),
        )
        text = f"{card(kb, entry, t)}\n\n{t('feedback.question')}"
        return Reply(text, buttons, edit)

    def _choices(
        self, choices: Sequence[Match], qid: str, *, question_key: str = "choices.question"
    ) -> Reply:
        t = self.texts
        rows = [(self._button(label(m.entry, t), "choice", qid, m.entry.id),) for m in choices]
        rows.append((self._button(self.texts("button.none_of_these"), "none", qid),))
        return Reply(self.texts(question_key), tuple(rows))

    def _redirect(self, kb: KnowledgeBase, redirect: str, qid: str | None) -> Reply:
        t = self.texts
        lines = [t("unknown.redirect", redirect=redirect), "", *self._counselling(kb)]
        return Reply("\n".join(lines), (*self._handoff_row(qid), *self._topics_row()))

    def _unknown(
        self, kb: KnowledgeBase, qid: str | None = None, *, missing: bool = False
    ) -> Reply:
        """``missing``: the question named a subject the organisation has no offer for
        (fehlende_themen), which is worth saying plainly instead of "I know nothing"."""
        t = self.texts
        intro = t("unknown.missing") if missing else t("unknown.intro")
        lines = [intro, "", *self._counselling(kb), "", t("unknown.hint")]
        return Reply("\n".join(lines), (*self._handoff_row(qid), *self._topics_row()))

    def _person(self, kb: KnowledgeBase, qid: str) -> Reply:
        """Asked for a human: the counselling office at once, with every way to reach it. The
        handoff button asks for the question itself (nothing is noted under ``qid``): "Kann ich
        mit jemandem sprechen?" would tell the counsellors nothing."""
        t = self.texts
        lines = [t("person.intro"), "", *self._counselling(kb)]
        if self.handoff is not None:
            lines.extend(["", t("person.write_here")])
        rows = (
            *self._handoff_row(qid),
            (self._button(t("button.contacts"), "contacts"),),
            *self._topics_row(),
        )
        return Reply("\n".join(lines), rows)

    def _counselling(self, kb: KnowledgeBase) -> list[Html]:
        contact = kb.counselling_contact
        return [
            self.texts("counselling.person", name=contact.title),
            *contact_details(contact, self.texts),
        ]

    # --- buttons ------------------------------------------------------------------------------

    def press(self, data: str | None, user_id: int | None = None) -> Reply:
        """Handle a button click; outdated or forged data gets a fresh menu, never an error."""
        c = self.for_chat(user_id)
        return c._press(c._snap().kb, data, user_id)

    def _press(self, kb: KnowledgeBase, data: str | None, user_id: int | None) -> Reply:
        action = actions.decode(data)
        if action is None:
            return self._stale(kb)
        verb, args = action.verb, action.args
        if self.handoff is not None and verb not in actions.HANDOFF:
            self.handoff.interrupt(user_id)
        if verb == "menu":
            return self._menu(kb, edit=True)
        if verb == "contacts":
            return self._contacts(kb, edit=True)
        if verb == "topic":
            return self._topic(kb, args[0], edit=True) if args[0] in kb.topics else self._stale(kb)
        if verb == "forget":
            return self._forget(args[0] == "1", user_id)
        if verb == "english":
            return self._in_english(args[0], user_id)
        if verb in actions.HANDOFF:  # Telegram sends most of these to handlers/handoff.py
            if self.handoff is None:
                return self._stale(kb)
            # The request's card line is for the counselling group, so from the German
            # entries (read afresh; nothing else in this reply comes from ``kb``).
            return self.handoff.press(self.snapshot().kb, action, user_id)
        if verb == "none":
            if self.log:
                self.log.choice(args[0], None)
            self.memory.forget(user_id)
            reply = self._unknown(kb, args[0])
            return Reply(
                f"{self.texts('choices.none_thanks')}\n\n{reply.text}",
                reply.buttons,
                edit=True,
                notice=self.texts.plain("notice.thanks"),
            )
        if verb not in ("entry", "choice", "feedback", "related", "contact"):
            return self._stale(kb)
        entry = kb.entries.get(args[1] if verb == "feedback" else args[-1])
        if entry is None or (verb == "contact" and entry.kind != "contact"):
            return self._stale(kb)
        if verb == "feedback":
            return self._feedback(kb, entry, args[0], args[2] == "1", user_id)
        turn = self.memory.recall(user_id)
        earlier = turn.runner_ups if turn else ()
        runners = tuple(i for i in earlier if i != entry.id) if verb == "choice" else ()
        self.memory.remember(user_id, Turn(entry.id, runners))
        if verb == "choice":
            if self.log:
                self.log.choice(args[0], entry.id)
            return self._answer(kb, entry, args[0], runners, edit=True)
        if verb == "contact":
            return self._contact_card(kb, entry)
        return self._browse_card(kb, entry, edit=verb == "entry")

    def _in_english(self, qid: str, user_id: int | None) -> Reply:
        """ "🇬🇧 In English" under a German reply: English from now on (as after /english), and
        the card or choices just shown, again in English. What the chat memory does not hold
        (an unknown or a redirect) is said anew by asking again."""
        self.languages.choose(user_id, ENGLISH)
        speaker = self.speaking(ENGLISH)
        kb = speaker._snap().kb
        turn = self.memory.recall(user_id)
        entry = kb.entries.get(turn.entry_id or "") if turn else None
        if turn is not None and entry is not None:
            return speaker._answer(kb, entry, qid, turn.runner_ups, edit=True)
        offers = [kb.entries[i] for i in turn.runner_ups if i in kb.entries] if turn else []
        if offers:
            reply = speaker._choices([Match(e, 0.0) for e in offers], qid)
            return replace(reply, edit=True)
        return speaker._switched(kb)

    def _forget(self, confirmed: bool, user_id: int | None) -> Reply:
        """Delete only on the confirming button, then say honestly what went and what stays."""
        t = self.texts
        if not confirmed:
            return Reply(t("forget.kept"), edit=True, notice=t.plain("notice.kept"))
        remembered = self.memory.recall(user_id) is not None
        self.memory.forget(user_id)
        count = self.log.forget(user_id) if self.log is not None and user_id is not None else 0
        lines = [t.plural("forget.done", count) if count else t("forget.none_stored")]
        tickets = self.handoff.forget(user_id) if self.handoff is not None else None
        if tickets is not None:
            lines.append(tickets)
        if remembered:
            lines.append(t("forget.memory"))
        lines.append(t("forget.remains", days=self.retention_days))
        return Reply("\n".join(lines), edit=True, notice=t.plain("notice.deleted"))

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

    def _browse_card(self, kb: KnowledgeBase, entry: Entry, *, edit: bool) -> Reply:
        t = self.texts
        rows = [*self._related_rows(related(kb, entry)), *self._handoff_row(None, entry.id)]
        if entry.topic and entry.topic in kb.topics:
            rows.append((self._button(t("button.back"), "topic", entry.topic),))
        rows.append((self._button(t("button.browse_all_topics"), "menu"),))
        return Reply(card(kb, entry, t), tuple(rows), edit=edit)

    def _feedback(
        self, kb: KnowledgeBase, entry: Entry, qid: str, helpful: bool, user_id: int | None
    ) -> Reply:
        t = self.texts
        if self.log:
            self.log.feedback(qid, helpful)
        turn = self.memory.recall(user_id)
        runners = turn.runner_ups if turn and turn.entry_id == entry.id else ()
        base = card(kb, entry, t)
        notice = t.plain("notice.thanks")
        if helpful:
            rows = (*self._related_rows(related(kb, entry, runners)), *self._topics_row())
            return Reply(f"{base}\n\n{t('feedback.thanks')}", rows, edit=True, notice=notice)
        offers = related(kb, entry, runners, next_best=True)
        lines = [base, "", t("feedback.sorry")]
        if offers:
            lines.append(t("feedback.next_best"))
        lines.extend(["", *self._counselling(kb)])
        rows = (
            *self._related_rows(offers, "button.next_best"),
            *self._handoff_row(qid, entry.id),
            *self._topics_row(),
        )
        return Reply(one_note(Html("\n".join(lines)), t), rows, edit=True, notice=notice)

    def _stale(self, kb: KnowledgeBase) -> Reply:
        t = self.texts
        return Reply(t("stale"), self._topic_buttons(kb), edit=True, notice=t.plain("notice.stale"))

    def _topic_buttons(self, kb: KnowledgeBase) -> Rows:
        buttons = [self._button(t.title, "topic", t.id) for t in kb.topics.values()]
        rows = [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
        rows.append((self._button(self.texts("button.contacts"), "contacts"),))
        return tuple(rows)

    def _topics_row(self) -> Rows:
        return ((self._button(self.texts("button.topics"), "menu"),),)

    def _handoff_row(self, qid: str | None = None, entry_id: str | None = None) -> Rows:
        """The way to a person, where the bot's answer ends: only with a counselling group."""
        return self.handoff.row(qid, entry_id) if self.handoff is not None else ()

    def _related_rows(self, offers: Sequence[Entry], key: str = "button.related") -> Rows:
        """One "Passt auch: …" button per offer, each label within Telegram's comfortable width."""
        t = self.texts
        room = MAX_LABEL - len(t.plain(key, title=""))
        return tuple(
            (self._button(t.plain(key, title=label(e, t, room)), "related", e.id),) for e in offers
        )

    def _contact_rows(self, kb: KnowledgeBase, contacts: Sequence[Entry]) -> Rows:
        t = self.texts
        room = MAX_LABEL - len(t.plain("button.contact", title=""))
        rows = tuple(
            (self._button(t.plain("button.contact", title=label(c, t, room)), "contact", c.id),)
            for c in contacts
        )
        return (*rows, *self._topics_row())

    @staticmethod
    def _button(text: str, verb: actions.Verb, *args: str) -> Button:
        return Button(str(text), actions.encode(verb, *args))


def _clean(text: str) -> str:
    """Drop control and invisible characters; keep at most one Telegram message of text."""
    kept = "".join(ch for ch in text[:MAX_QUESTION] if ch.isprintable() or ch in " \n\t")
    return " ".join(kept.split())


def reload_message(swapped: bool, problems: Sequence[Problem], version: str) -> str:
    """What the team reads after a reload: done, or which errors keep the old version serving."""
    texts = Texts.load()
    if swapped:
        return str(texts("reload.ok", version=version))
    errors = [str(p) for p in problems if p.severity == "fehler"]
    shown = "\n".join(f"• {escape(e)}" for e in errors[:15])
    more = str(texts("reload.more", count=len(errors) - 15)) if len(errors) > 15 else ""
    return str(texts("reload.failed", version=version)) + f"\n{shown}{more}"


def _still_about_the_card(
    snap: Snapshot, follow: Followup, result: SearchResult, card: Entry
) -> bool:
    """A cued follow-up whose extra words seemed to name something else ("Wer ist da der
    Ansprechpartner im Haus?"), but the search knows nothing of it, or, when it points back
    ("das", "da"), finds the card itself ("Gilt das auch, wenn man wegen Pflege freigestellt
    ist?" after the card on leave): still about the card, and the card again would not answer
    what was asked. Not when those words are a subject with a reply of its own (off-topic,
    missing) or nouns no entry knows ("wann kommt die Müllabfuhr?"); not a question of its
    own that merely repeats the card's subject ("Ziel mehr Frauen in Führung")."""
    if not follow.cued or result.redirect is not None or result.missing:
        return False
    if result.outcome == "answered":
        best = result.best
        return follow.refers and best is not None and best.entry.id == card.id
    return result.outcome == "unknown" and not snap.index.foreign_nouns(follow.rest)
