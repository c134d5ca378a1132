"""A way to a person: with consent, an employee's question goes to the counselling office's
Telegram group as "Anfrage #N", and a short exchange runs both ways through the bot.

Neither side sees the other's Telegram identity. The group gets the question, the card it
followed and — only if the employee adds it — the first name; the employee gets "Antwort der
Beratungsstelle". A counsellor answers by replying to a bot message of the request in the
group; the employee answers with "Antworten" or by replying to the relayed answer. What is
stored is the ticket behind "#N" (bot/log/tickets.py), never a text. Drafts, and the questions
a "Frage an die Beratungsstelle" button may send, are kept in memory for half an hour, never
written anywhere; a restart forgets them.

Two languages meet here. The employee reads their chat's language (``speaking``: the
conversation hands each chat the desk of its language, as it does with itself); the group is
German-speaking staff and reads German, whatever the employee speaks. The preview shows the
employee the request line by line in their own language — the same lines, the question exactly
as typed — with one line saying that the group gets them in German.

Nothing here knows Telegram. The Telegram side (handlers/handoff.py) hands in a ``Sender`` and
shows the replies; the terminal chat goes through ``press`` and is told, after the same
preview, that it has no counselling group.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Generic, Literal, Protocol, TypeVar

from bot.chat import actions
from bot.chat.cards import first_sentence
from bot.chat.conversation import Button, Reply, Rows
from bot.chat.language import GERMAN
from bot.chat.texts import Html, Texts
from bot.knowledge.schema import Entry, KnowledgeBase
from bot.log.tickets import TicketError, TicketStore

__all__ = [
    "CLOSE_COMMAND",
    "GROUP_LANGUAGE",
    "NONE",
    "TTL_SECONDS",
    "Draft",
    "Handoff",
    "Reason",
    "Sender",
    "Undelivered",
]

CLOSE_COMMAND = "erledigt"  # counsellors close a request: /erledigt as a reply in the group
GROUP_LANGUAGE = GERMAN  # the counselling office's staff read German, whoever asks

TTL_SECONDS = 1800.0  # drafts and the questions a button may send: half an hour in memory
MAX_ITEMS = 10_000  # per memory; the longest-idle go first
MAX_NAME = 64  # Telegram's limit for a first name
NONE = "_"  # button argument: no question id, no card

Reason = Literal["blocked", "network", "refused", "unknown_chat"]
_REASONS: dict[Reason, str] = {
    "blocked": "handoff.group.reason.blocked",
    "network": "handoff.group.reason.network",
    "refused": "handoff.group.reason.refused",
    "unknown_chat": "handoff.group.reason.unknown_chat",
}

K = TypeVar("K")
V = TypeVar("V")


class Undelivered(Exception):
    """Telegram did not take a message; ``reason`` picks the words the group reads."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason: Reason = reason


class Sender(Protocol):
    """Sends one text (split if long, buttons under the last part) and returns the id of the
    last message; raises ``Undelivered``. ``reply_to`` makes it a reply in that chat."""

    async def __call__(
        self, chat_id: int, text: str, *, buttons: Rows = (), reply_to: int | None = None
    ) -> int: ...


@dataclass(frozen=True, slots=True)
class Draft:
    """What the employee is about to send; ``text`` None while the bot waits for it."""

    user: int | None
    text: str | None
    card: Html | None = None  # the line about the card the question followed, for the group
    shown: Html | None = None  # the same line in the employee's language, for the preview
    ticket: int | None = None  # None: a new request (needs consent); N: a message to ticket N
    name: str | None = None  # the first name, only once the employee added it


class _Expiring(Generic[K, V]):
    """A bounded mapping whose values are forgotten ``ttl`` seconds after they were put."""

    def __init__(self, ttl: float, max_items: int, clock: Callable[[], float]) -> None:
        self._ttl = ttl
        self._max = max_items
        self._clock = clock
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def put(self, key: K, value: V) -> None:
        self._items.pop(key, None)
        self._items[key] = (self._clock(), value)
        while len(self._items) > self._max:
            self._items.popitem(last=False)

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        if found is None:
            return None
        if self._clock() - found[0] > self._ttl:
            del self._items[key]
            return None
        return found[1]

    def pop(self, key: K) -> V | None:
        value = self.get(key)
        self._items.pop(key, None)
        return value

    def drop(self, unwanted: Callable[[K, V], bool]) -> None:
        for key in [k for k, (_, v) in self._items.items() if unwanted(k, v)]:
            del self._items[key]


class Handoff:
    """The desk between employees and the counselling group.

    ``store`` None is the terminal: the same buttons and previews, nothing is sent. The
    synchronous methods only touch memory (the conversation calls them on the event loop);
    the asynchronous ones wait for the ticket store in a worker thread and send via ``send``.
    ``texts`` is what the employee reads (the conversation sets it, see ``speaking``),
    ``group_texts`` what the counselling group reads.
    """

    def __init__(
        self,
        *,
        texts: Texts | None = None,
        group_texts: Texts | None = None,
        store: TicketStore | None = None,
        keep_days: int = 30,
        ttl: float = TTL_SECONDS,
        max_items: int = MAX_ITEMS,
        clock: Callable[[], float] = time.monotonic,
        tokens: Callable[[], str] = lambda: secrets.token_urlsafe(6),
    ) -> None:
        self.group = group_texts or Texts.load(GROUP_LANGUAGE)
        self.texts = texts or self.group
        self.store = store
        self.keep_days = store.keep_days if store is not None else keep_days
        self.ttl = ttl
        self._tokens = tokens
        self._questions: _Expiring[str, tuple[int | None, str]] = _Expiring(ttl, max_items, clock)
        self._drafts: _Expiring[str, Draft] = _Expiring(ttl, max_items, clock)
        self._waiting: _Expiring[int | None, str] = _Expiring(ttl, max_items, clock)
        # What "Senden" answered, per draft: a second tap (before the first edit arrived) gets
        # the same answer instead of sending twice or overwriting the confirmation.
        self._sent: _Expiring[str, tuple[int | None, Reply]] = _Expiring(ttl, max_items, clock)

    def speaking(self, texts: Texts) -> Handoff:
        """This desk for an employee who reads ``texts``: the same memory, store and group
        (which keeps reading German). Called once per language by the conversation."""
        if texts == self.texts:
            return self
        desk = copy.copy(self)  # shallow: the memories and the store are shared
        desk.texts = texts
        return desk

    @property
    def online(self) -> bool:
        """Whether there is a counselling group to send to (Telegram), not the terminal."""
        return self.store is not None

    # --- what the conversation asks: memory only ----------------------------------------------

    def row(self, qid: str | None = None, entry_id: str | None = None) -> Rows:
        """The "Frage an die Beratungsstelle" button under a card or a fallback."""
        return ((self._button("handoff.label.ask", "handoff", qid or NONE, entry_id or NONE),),)

    def note(self, qid: str, user: int | None, question: str) -> None:
        """Remember a question for the button under its answer (memory only, half an hour)."""
        self._questions.put(qid, (user, question))

    def typed(self, user: int | None, text: str) -> Reply | None:
        """The text of a new request the bot asked for: the preview. None when the bot was not
        waiting for one (then the text is a question for the bot, or a message to a ticket)."""
        token = self._waiting.get(user)
        draft = self._own(token, user)
        if token is None or draft is None or draft.ticket is not None:
            return None
        self._waiting.pop(user)
        draft = replace(draft, text=text)
        self._drafts.put(token, draft)
        return self._preview(token, draft, edit=False)

    def interrupt(self, user: int | None) -> None:
        """Any other command or button: the next text is not for the counselling office any
        more (the drafts stay, their buttons still work)."""
        self._waiting.pop(user)

    def awaits_message(self, user: int | None) -> bool:
        """Whether the employee tapped "Antworten" and the next text goes to a ticket."""
        draft = self._own(self._waiting.get(user), user)
        return draft is not None and draft.ticket is not None

    def thread_of(self, button_data: Iterable[str | None]) -> int | None:
        """The ticket of a relayed answer, from its buttons: a reply to it continues it."""
        for data in button_data:
            action = actions.decode(data)
            if action is not None and action.verb == "respond":
                return int(action.args[0])
        return None

    def press(
        self,
        kb: KnowledgeBase,
        action: actions.Action,
        user: int | None,
        *,
        first_name: str | None = None,
    ) -> Reply:
        """A handoff button that needs no Telegram: preview, name, rewrite, decline — and, in
        the terminal, "Senden", which sends nothing and says why. ``kb`` is the German
        knowledge base, not a chat's view of it: the request's card line is for the group."""
        verb, args = action.verb, action.args
        t = self.texts
        if verb == "handoff":
            return self._start(kb, args[0], args[1], user)
        if verb in ("respond", "resolve"):
            return self._gone()
        token = args[0]
        draft = self._own(token, user)
        if draft is None:
            return self._expired()
        if verb == "decline":
            self._drop(token)
            return Reply(t("handoff.declined"), edit=True)
        if verb == "rewrite" or draft.text is None:
            self._drafts.put(token, replace(draft, text=None))
            self._waiting.put(user, token)
            return self._prompt(token, edit=True)
        if verb == "name":
            name = " ".join((first_name or "").split())[:MAX_NAME] if args[1] == "1" else ""
            draft = replace(draft, name=name or None)
            self._drafts.put(token, draft)
            return self._preview(token, draft, edit=True)
        # "consent" without a counselling group: the terminal.
        self._drop(token)
        return Reply(f"{self._request(draft, own=True)}\n\n{t('handoff.terminal')}")

    # --- privacy ---------------------------------------------------------------------------

    def privacy(self) -> Html:
        return self.texts("handoff.privacy", days=self.keep_days)

    def forget_note(self) -> Html:
        """The line /vergessen adds to its question."""
        return self.texts("handoff.forget_confirm")

    def forget(self, user: int | None) -> Html | None:
        """/vergessen: drafts and remembered questions go, and every ticket of ``user``; the
        line that says so (None when there were none). Blocks for the store."""
        self._questions.drop(lambda _, value: value[0] == user)
        self._drafts.drop(lambda _, draft: draft.user == user)
        self._sent.drop(lambda _, sent: sent[0] == user)
        self._waiting.pop(user)
        if self.store is None or user is None:
            return None
        try:
            count = self.store.forget(user)
        except TicketError:
            return self.texts("handoff.forget_failed")
        return self.texts.plural("handoff.forgotten", count) if count else None

    # --- the employee's side, with the counselling group ------------------------------------

    async def button(
        self,
        kb: KnowledgeBase,
        action: actions.Action,
        user: int,
        *,
        first_name: str | None,
        send: Sender,
    ) -> Reply:
        """Any handoff button in Telegram (``kb`` the German one, as for ``press``)."""
        if self.store is None:
            return self.press(kb, action, user, first_name=first_name)
        if action.verb == "consent":
            return await self._consent(self.store, action.args[0], user, send)
        if action.verb == "respond":
            return await self._respond(self.store, int(action.args[0]), user)
        if action.verb == "resolve":
            return await self._resolve(self.store, int(action.args[0]), user, send)
        return self.press(kb, action, user, first_name=first_name)

    async def message(
        self, user: int, text: str, *, thread: int | None, send: Sender
    ) -> Reply | None:
        """An employee's text for a ticket: after "Antworten", or a reply to a relayed answer
        (``thread``). None when it is neither: then it is a question for the bot."""
        if self.store is None or not text.strip():
            return None
        token = self._waiting.get(user)
        waiting = self._own(token, user)
        if thread is not None:  # a reply names its request, whatever the bot waited for
            self._waiting.pop(user)
            token, draft = self._tokens(), Draft(user, text, ticket=thread)
        elif token is not None and waiting is not None and waiting.ticket is not None:
            self._waiting.pop(user)
            draft = replace(waiting, text=text)
        else:
            return None
        self._drafts.put(token, draft)
        return await self._forward(self.store, token, draft, send)

    async def _consent(self, store: TicketStore, token: str, user: int, send: Sender) -> Reply:
        t = self.texts
        draft = self._own(token, user)
        sent = self._sent.get(token)
        if draft is None and sent is not None and sent[0] == user:
            return sent[1]
        if draft is None:
            return self._expired()
        if draft.text is None:
            self._waiting.put(user, token)
            return self._prompt(token, edit=True)
        if draft.ticket is not None:  # a message to a ticket whose relaying failed: again
            return await self._forward(store, token, draft, send)
        try:
            number = await asyncio.to_thread(store.open, user)
        except TicketError:
            return self._not_sent(token, draft)
        try:
            message_id = await send(store.group_chat, self._request(draft, number))
        except Undelivered:
            with contextlib.suppress(TicketError):
                await asyncio.to_thread(store.discard, number)
            return self._not_sent(token, draft)
        try:
            await asyncio.to_thread(store.delivered, number, message_id)
        except TicketError:
            # The group has the request, but a reply could not find its way back: say so.
            failed = self.group("handoff.group.store_failed")
            await self._tell_group(store, send, failed, message_id)
            with contextlib.suppress(TicketError):
                await asyncio.to_thread(store.discard, number)
            return self._not_sent(token, draft)
        self._drop(token)
        done = Reply(
            f"{self._request(draft, number, own=True)}\n\n{t('handoff.sent', number=number)}",
            edit=True,
        )
        self._sent.put(token, (user, done))
        return done

    async def _forward(self, store: TicketStore, token: str, draft: Draft, send: Sender) -> Reply:
        """Relay an employee's message to the group, as a reply to their request."""
        t = self.texts
        assert draft.ticket is not None and draft.text is not None and draft.user is not None
        try:
            ticket = await asyncio.to_thread(store.of_user, draft.ticket, draft.user)
        except TicketError:
            return self._not_forwarded(token)
        if ticket is None:  # closed, expired or forgotten: offer it as a new request
            draft = replace(draft, ticket=None, card=None, shown=None)
            self._drafts.put(token, draft)
            intro = Html(f"{t('handoff.gone')}\n{t('handoff.gone_as_new')}")
            return self._preview(token, draft, edit=False, intro=intro)
        text = self.group("handoff.group.from_employee", number=ticket.number, text=draft.text)
        try:
            message_id = await send(store.group_chat, text, reply_to=ticket.thread)
        except Undelivered:
            with contextlib.suppress(TicketError):
                await asyncio.to_thread(store.undelivered)
            return self._not_forwarded(token)
        with contextlib.suppress(TicketError):  # delivered; at worst a reply to it is unknown
            await asyncio.to_thread(store.relayed, ticket.number, to="group", message_id=message_id)
        self._drop(token)
        done = Reply(t("handoff.forwarded", number=ticket.number), edit=True)
        self._sent.put(token, (draft.user, done))
        return done

    async def _respond(self, store: TicketStore, number: int, user: int) -> Reply:
        """ "Antworten": the next text goes to the ticket."""
        try:
            ticket = await asyncio.to_thread(store.of_user, number, user)
        except TicketError:
            return Reply(self.texts("handoff.unavailable"))
        if ticket is None:
            return self._gone()
        token = self._tokens()
        self._drafts.put(token, Draft(user, None, ticket=number))
        self._waiting.put(user, token)
        cancel = self._button("handoff.label.cancel", "decline", token)
        return Reply(self.texts("handoff.message_prompt", number=number), ((cancel,),))

    async def _resolve(self, store: TicketStore, number: int, user: int, send: Sender) -> Reply:
        """ "Erledigt, danke": the ticket goes; the group hears of it."""
        t = self.texts
        try:
            ticket = await asyncio.to_thread(store.of_user, number, user)
            closed = ticket is not None and await asyncio.to_thread(store.close, number)
        except TicketError:
            return Reply(t("handoff.unavailable"))
        if ticket is None or not closed:
            return self._gone()
        self._drafts.drop(lambda _, draft: draft.ticket == number)
        notice = self.group("handoff.group.resolved", number=number)
        await self._tell_group(store, send, notice, ticket.thread)
        return Reply(t("handoff.resolved", number=number))

    # --- the counselling group's side -------------------------------------------------------

    def group_help(self) -> Reply:
        return Reply(self.group("handoff.group.help", days=self.keep_days))

    async def counsellor(
        self,
        *,
        replied_to: int,
        message_id: int,
        text: str | None,
        send: Sender,
        texts_for: Callable[[int], Texts],
    ) -> None:
        """A reply in the group to a bot message: relayed to the employee of its ticket, in
        the language of their chat (``texts_for``, the conversation's), and the group is told
        whether it arrived."""
        store = self.store
        if store is None:
            return
        t = self.group
        try:
            ticket = await asyncio.to_thread(store.by_message, replied_to)
        except TicketError:
            await self._tell_group(store, send, t("handoff.group.store_failed"), message_id)
            return
        if ticket is None:
            unknown = t("handoff.group.unknown", days=self.keep_days)
            await self._tell_group(store, send, unknown, message_id)
            return
        if text is None or not text.strip():
            await self._tell_group(store, send, t("handoff.group.only_text"), message_id)
            return
        reason: Reason | None = None
        if ticket.chat_id is None:
            reason = "unknown_chat"
        else:
            desk = self.speaking(texts_for(ticket.chat_id))
            answer = Html(
                f"{desk.texts('handoff.answer', number=ticket.number, text=text)}\n\n"
                f"{desk.texts('handoff.answer_hint')}"
            )
            try:
                await send(ticket.chat_id, answer, buttons=desk._answer_rows(ticket.number))
            except Undelivered as exc:
                reason = exc.reason
        if reason is not None:
            with contextlib.suppress(TicketError):
                await asyncio.to_thread(store.undelivered)
            why = t(_REASONS[reason])
            notice = t("handoff.group.undelivered", number=ticket.number, reason=why)
        else:
            with contextlib.suppress(TicketError):
                await asyncio.to_thread(store.relayed, ticket.number, to="employee")
            notice = t("handoff.group.delivered", number=ticket.number)
        notice_id = await self._tell_group(store, send, notice, message_id)
        if notice_id is not None:  # a reply to the notice continues the ticket too
            with contextlib.suppress(TicketError):
                await asyncio.to_thread(store.link, ticket.number, notice_id)

    async def close(
        self,
        *,
        replied_to: int | None,
        message_id: int,
        send: Sender,
        texts_for: Callable[[int], Texts],
    ) -> None:
        """/erledigt as a reply in the group: the ticket goes, the employee is told (in their
        chat's language, ``texts_for``)."""
        store = self.store
        if store is None:
            return
        t = self.group
        if replied_to is None:
            await self._tell_group(store, send, t("handoff.group.close_how"), message_id)
            return
        try:
            ticket = await asyncio.to_thread(store.by_message, replied_to)
            closed = ticket is not None and await asyncio.to_thread(store.close, ticket.number)
        except TicketError:
            await self._tell_group(store, send, t("handoff.group.store_failed"), message_id)
            return
        if ticket is None or not closed:
            unknown = t("handoff.group.unknown", days=self.keep_days)
            await self._tell_group(store, send, unknown, message_id)
            return
        self._drafts.drop(lambda _, draft: draft.ticket == ticket.number)
        told = False
        if ticket.chat_id is not None:
            try:
                closed_note = texts_for(ticket.chat_id)("handoff.closed", number=ticket.number)
                await send(ticket.chat_id, closed_note)
                told = True
            except Undelivered:
                told = False
        key = "handoff.group.closed" if told else "handoff.group.closed_unnotified"
        await self._tell_group(store, send, t(key, number=ticket.number), message_id)

    async def _tell_group(
        self, store: TicketStore, send: Sender, text: str, reply_to: int | None
    ) -> int | None:
        """A notice in the group; when even that fails there is nobody left to tell (the
        sender logs it for the operator)."""
        try:
            return await send(store.group_chat, text, reply_to=reply_to)
        except Undelivered:
            return None

    # --- building blocks --------------------------------------------------------------------

    def _start(self, kb: KnowledgeBase, qid: str, entry_id: str, user: int | None) -> Reply:
        noted = self._questions.get(qid) if qid != NONE else None
        question = noted[1] if noted is not None and noted[0] == user else None
        entry = kb.entries.get(entry_id) if entry_id != NONE else None
        token = self._tokens()
        shown = self._card(kb.in_language(self.texts.language), entry, self.texts)
        draft = Draft(user, question, self._card(kb, entry, self.group), shown)
        self._drafts.put(token, draft)
        if question is None:  # a card opened while browsing, or the question is forgotten
            self._waiting.put(user, token)
            return self._prompt(token, edit=False)
        return self._preview(token, draft, edit=False)

    def _card(self, kb: KnowledgeBase, entry: Entry | None, t: Texts) -> Html | None:
        """The card line in ``t``'s language, fixed when the draft is made: a reload cannot
        change what was shown. The group's from the German knowledge base the callers hand in,
        the employee's from its view in their language (the same entry, by id)."""
        entry = kb.entries.get(entry.id) if entry is not None else None
        if entry is None:
            return None
        kind = t(f"kind.{entry.kind}")
        if entry.ref:
            kind = t("card.kind_ref", kind=kind, ref=entry.ref)
        gist = first_sentence(entry.answer)
        return t("handoff.request.card", title=entry.title, kind=kind, gist=gist)

    def _request(self, draft: Draft, number: int | None = None, *, own: bool = False) -> Html:
        """The request as the group gets it, in German; with ``own`` the same lines in the
        employee's language, for them to see what goes (before sending, "…" stands for the
        number). In a German chat both are the same text."""
        t = self.texts if own else self.group
        card = draft.shown if own else draft.card
        shown = t("handoff.number_pending") if number is None else number
        lines = [
            t("handoff.request.heading", number=shown),
            t("handoff.request.question", question=draft.text or ""),
            card or t("handoff.request.no_card"),
        ]
        if draft.name:
            lines.append(t("handoff.request.name", name=draft.name))
        lines.append(t("handoff.request.how"))
        return Html("\n".join(lines))

    def _preview(self, token: str, draft: Draft, *, edit: bool, intro: Html | None = None) -> Reply:
        t = self.texts
        lines: list[str] = [intro, ""] if intro else []
        lines.append(t("handoff.preview.heading"))
        if t.language != self.group.language:  # the group gets the lines below in German
            lines.append(t("handoff.preview.language"))
        lines += ["", self._request(draft, own=True), "", t("handoff.preview.anonymous")]
        if draft.name:
            lines.append(t("handoff.preview.name_added"))
        elif self.online:
            lines.append(t("handoff.preview.name_offer"))
        lines += [t("handoff.preview.kept", days=self.keep_days), t("handoff.preview.ask")]
        rows: list[tuple[Button, ...]] = [(self._button("handoff.label.send", "consent", token),)]
        if draft.name:
            rows.append((self._button("handoff.label.remove_name", "name", token, "0"),))
        elif self.online:
            rows.append((self._button("handoff.label.add_name", "name", token, "1"),))
        rows.append((self._button("handoff.label.rewrite", "rewrite", token),))
        rows.append((self._button("handoff.label.decline", "decline", token),))
        return Reply("\n".join(lines), tuple(rows), edit=edit)

    def _prompt(self, token: str, *, edit: bool) -> Reply:
        cancel = self._button("handoff.label.cancel", "decline", token)
        return Reply(self.texts("handoff.prompt"), ((cancel,),), edit=edit)

    def _not_sent(self, token: str, draft: Draft) -> Reply:
        """The request did not reach the group: nothing stored, the draft kept for a retry."""
        text = f"{self._request(draft, own=True)}\n\n{self.texts('handoff.send_failed')}"
        rows = (
            (self._button("handoff.label.retry", "consent", token),),
            (self._button("handoff.label.decline", "decline", token),),
        )
        return Reply(text, rows, edit=True)

    def _not_forwarded(self, token: str) -> Reply:
        rows = (
            (self._button("handoff.label.retry", "consent", token),),
            (self._button("handoff.label.cancel", "decline", token),),
        )
        return Reply(self.texts("handoff.forward_failed"), rows)

    def _gone(self) -> Reply:
        return Reply(self.texts("handoff.gone"), self.row())

    def _expired(self) -> Reply:
        minutes = round(self.ttl / 60)
        return Reply(self.texts("handoff.expired", minutes=minutes), self.row(), edit=True)

    def _answer_rows(self, number: int) -> Rows:
        return (
            (
                self._button("handoff.label.respond", "respond", str(number)),
                self._button("handoff.label.resolve", "resolve", str(number)),
            ),
        )

    def _own(self, token: str | None, user: int | None) -> Draft | None:
        """The draft behind a token, if it is this employee's (button data is forgeable)."""
        draft = self._drafts.get(token) if token is not None else None
        return draft if draft is not None and draft.user == user else None

    def _drop(self, token: str) -> None:
        draft = self._drafts.pop(token)
        if draft is not None and self._waiting.get(draft.user) == token:
            self._waiting.pop(draft.user)

    def _button(self, key: str, verb: actions.Verb, *args: str) -> Button:
        return Button(self.texts.plain(key), actions.encode(verb, *args))
