"""Tickets of the handoff to the counselling office: which "Anfrage #N" goes back to which chat.

A ticket exists so that a counsellor's reply in the counselling group reaches the employee who
asked, and nothing else. Privacy by construction:

* the employee's chat id, which relaying needs, is stored only sealed (XOR with a keystream
  from HMAC-SHA256 under the log key and a random nonce per ticket); the database alone does
  not reveal it, and it is deleted with the ticket;
* the ticket's owner is found by the same keyed pseudonym as the question rows, so
  ``/vergessen`` removes a person's tickets with their questions;
* a ticket lives while the exchange does: it is deleted when it is closed, when its owner
  says ``/vergessen``, and ``keep_days`` after its last message (expiry is checked by every
  ticket operation and by the log's daily purge, so nothing outlives its date by much);
* the texts of questions and answers are never stored, only the message ids of the bot's
  own messages in the group (so a reply to one of them finds its ticket);
* the report sees anonymous counts per day and event (``TICKET_COUNTS``), never a ticket.

Ticket work runs through a ``Runner``: the question log's writer thread (``QuestionLog``), or
``MemoryRunner`` when there is no log, where a restart forgets every ticket.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from bot.log import schema as logschema
from bot.log.secret import pseudonym
from bot.log.stats import open_log

__all__ = [
    "EVENTS",
    "Keyed",
    "MemoryRunner",
    "Runner",
    "Ticket",
    "TicketCounts",
    "TicketError",
    "TicketStore",
    "expire",
    "read_ticket_counts",
    "seal",
    "unseal",
]

R = TypeVar("R")
Event = Literal[
    "opened",  # a request reached the group
    "answered",  # a ticket got its first reply from the counselling office
    "to_employee",  # a counsellor's message relayed to the employee
    "to_group",  # an employee's message relayed to the group
    "closed",  # closed by a counsellor (/erledigt) or by the employee
    "expired",  # deleted after keep_days without a message
    "forgotten",  # deleted by /vergessen
    "undelivered",  # a message that could not be relayed (either way)
]
EVENTS: tuple[Event, ...] = (
    "opened", "answered", "to_employee", "to_group", "closed", "expired", "forgotten",
    "undelivered",
)  # fmt: skip
_NONCE_BYTES = 16
_CHAT_BYTES = 8
_SEAL_CONTEXT = b"vereinbar/ticket-chat/"


class TicketError(Exception):
    """The tickets could not be read or written (the database is unavailable)."""


@dataclass(slots=True)
class Keyed:
    """What ticket work gets inside its transaction: the connection, the key and today.

    ``deleted`` counts the tickets the work deleted: then the runner wipes the WAL after the
    commit, so no old page copy keeps a sealed chat id beyond its ticket.
    """

    conn: sqlite3.Connection
    secret: bytes
    today: date
    deleted: int = 0


class Runner(Protocol):
    """Runs ticket work in one transaction and returns its result; raises on database errors."""

    def transact(self, work: Callable[[Keyed], R]) -> R: ...


@dataclass(frozen=True, slots=True)
class Ticket:
    number: int
    chat_id: int | None  # the employee's private chat; None when the seal does not open
    thread: int | None  # the bot's "Anfrage #N" message in the group, for replies there
    answered: bool


@dataclass(frozen=True, slots=True)
class TicketCounts:
    """Anonymous counts of a period, for the report; ``open_now`` is today's open tickets."""

    opened: int = 0
    answered: int = 0
    to_employee: int = 0
    to_group: int = 0
    closed: int = 0
    expired: int = 0
    forgotten: int = 0
    undelivered: int = 0
    open_now: int = 0


class TicketStore:
    """The tickets of one counselling group, kept ``keep_days`` after their last message.

    Methods block until the runner is done: call them from a worker thread
    (``asyncio.to_thread``). Every database problem becomes a ``TicketError``.
    """

    def __init__(self, runner: Runner, *, group_chat: int, keep_days: int = 30) -> None:
        if keep_days < 1:
            raise ValueError("keep_days muss mindestens 1 sein.")
        self._runner = runner
        self.group_chat = group_chat
        self.keep_days = keep_days

    def open(self, user_id: int) -> int:
        """A new ticket for the private chat of ``user_id`` (in a private chat the chat id is
        the user id); returns its number. It counts as opened once ``delivered``."""

        def work(k: Keyed) -> int:
            cursor = k.conn.execute(
                f"INSERT INTO {logschema.TICKETS} (pseudonym, chat, group_chat, opened, expires) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    pseudonym(k.secret, user_id),
                    seal(k.secret, user_id),
                    self.group_chat,
                    k.today.isoformat(),
                    self._expires(k),
                ),
            )
            return int(cursor.lastrowid or 0)

        return self._run(work)

    def delivered(self, number: int, message_id: int) -> None:
        """The request reached the group as ``message_id``: the thread replies refer to."""

        def work(k: Keyed) -> None:
            k.conn.execute(
                f"UPDATE {logschema.TICKETS} SET thread = ? WHERE number = ?", (message_id, number)
            )
            _link(k, self.group_chat, number, message_id)
            _count(k, "opened")

        self._run(work)

    def discard(self, number: int) -> None:
        """The request never reached the group: the ticket goes, counted as undelivered."""

        def work(k: Keyed) -> None:
            _delete(k, "number = ?", (number,))
            _count(k, "undelivered")

        self._run(work)

    def by_message(self, message_id: int) -> Ticket | None:
        """The open ticket a bot message in the group belongs to, or None."""

        def work(k: Keyed) -> Ticket | None:
            row = k.conn.execute(
                f"SELECT t.number, t.pseudonym, t.chat, t.thread, t.answered "
                f"FROM {logschema.TICKET_MESSAGES} m JOIN {logschema.TICKETS} t "
                f"ON t.number = m.ticket WHERE m.group_chat = ? AND m.message_id = ? "
                f"AND t.group_chat = ?",
                (self.group_chat, message_id, self.group_chat),
            ).fetchone()
            return _ticket(k, row)

        return self._run(work)

    def of_user(self, number: int, user_id: int) -> Ticket | None:
        """Ticket ``number`` if it is open and belongs to ``user_id`` (button data is forgeable)."""

        def work(k: Keyed) -> Ticket | None:
            row = k.conn.execute(
                f"SELECT number, pseudonym, chat, thread, answered FROM {logschema.TICKETS} "
                "WHERE number = ? AND pseudonym = ? AND group_chat = ?",
                (number, pseudonym(k.secret, user_id), self.group_chat),
            ).fetchone()
            return _ticket(k, row)

        return self._run(work)

    def relayed(
        self, number: int, *, to: Literal["employee", "group"], message_id: int | None = None
    ) -> None:
        """A message went through: the ticket lives ``keep_days`` from today, and a bot
        message in the group (``message_id``) leads back to it."""

        def work(k: Keyed) -> None:
            k.conn.execute(
                f"UPDATE {logschema.TICKETS} SET expires = ? WHERE number = ?",
                (self._expires(k), number),
            )
            if to == "employee":
                first = k.conn.execute(
                    f"UPDATE {logschema.TICKETS} SET answered = 1 "
                    "WHERE number = ? AND answered = 0",
                    (number,),
                ).rowcount
                if first:
                    _count(k, "answered")
            _count(k, "to_employee" if to == "employee" else "to_group")
            if message_id is not None:
                _link(k, self.group_chat, number, message_id)

        self._run(work)

    def link(self, number: int, message_id: int) -> None:
        """Another bot message in the group (a notice) that leads back to the ticket."""
        self._run(lambda k: _link(k, self.group_chat, number, message_id))

    def undelivered(self) -> None:
        """Count a message that could not be relayed."""
        self._run(lambda k: _count(k, "undelivered"))

    def close(self, number: int) -> bool:
        """Delete the ticket (it is done); False when it was not open any more."""

        def work(k: Keyed) -> bool:
            closed = _delete(k, "number = ? AND group_chat = ?", (number, self.group_chat))
            if closed:
                _count(k, "closed", closed)
            return bool(closed)

        return self._run(work)

    def forget(self, user_id: int) -> int:
        """/vergessen: delete every ticket of ``user_id``, in any group; returns how many."""

        def work(k: Keyed) -> int:
            gone = _delete(k, "pseudonym = ?", (pseudonym(k.secret, user_id),))
            if gone:
                _count(k, "forgotten", gone)
            return gone

        return self._run(work)

    def expire(self) -> int:
        """Delete tickets past their date now; returns how many."""
        return self._run(expire, expire_first=False)

    def open_tickets(self) -> int:
        """How many tickets are open (for tests and the status line; no ids)."""

        def work(k: Keyed) -> int:
            return int(k.conn.execute(f"SELECT COUNT(*) FROM {logschema.TICKETS}").fetchone()[0])

        return self._run(work)

    def _expires(self, k: Keyed) -> str:
        return (k.today + timedelta(days=self.keep_days)).isoformat()

    def _run(self, work: Callable[[Keyed], R], *, expire_first: bool = True) -> R:
        """Run ``work`` in one transaction, after deleting what has expired: a ticket past its
        date is gone for every lookup, whenever the daily purge runs."""

        def guarded(k: Keyed) -> R:
            if expire_first:
                expire(k)
            return work(k)

        try:
            return self._runner.transact(guarded)
        except (sqlite3.Error, OSError) as exc:
            raise TicketError(str(exc)) from exc


def expire(k: Keyed) -> int:
    """Delete tickets whose date has come (inside the caller's transaction); count them."""
    gone = _delete(k, "expires <= ?", (k.today.isoformat(),))
    if gone:
        _count(k, "expired", gone)
    return gone


def seal(secret: bytes, chat_id: int) -> str:
    """The chat id encrypted under the log key with a fresh nonce, as hex."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    plain = chat_id.to_bytes(_CHAT_BYTES, "big", signed=True)
    return (nonce + _xor(plain, _pad(secret, nonce))).hex()


def unseal(secret: bytes, sealed: str) -> int | None:
    """The chat id back, or None when the value is malformed."""
    try:
        raw = bytes.fromhex(sealed)
    except ValueError:
        return None
    if len(raw) != _NONCE_BYTES + _CHAT_BYTES:
        return None
    nonce, body = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
    return int.from_bytes(_xor(body, _pad(secret, nonce)), "big", signed=True)


def _pad(secret: bytes, nonce: bytes) -> bytes:
    return hmac.new(secret, _SEAL_CONTEXT + nonce, hashlib.sha256).digest()[:_CHAT_BYTES]


def _xor(data: bytes, pad: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, pad, strict=True))


_Row = tuple[int, str, str, int | None, int]


def _ticket(k: Keyed, row: _Row | None) -> Ticket | None:
    """A row as a ticket; the unsealed chat must give the stored pseudonym back (in a private
    chat the chat id is the user id), else the key changed and the chat is unknown."""
    if row is None:
        return None
    number, key, sealed, thread, answered = row
    chat = unseal(k.secret, sealed)
    if chat is not None and not hmac.compare_digest(pseudonym(k.secret, chat), key):
        chat = None
    return Ticket(number=number, chat_id=chat, thread=thread, answered=bool(answered))


def _link(k: Keyed, group_chat: int, number: int, message_id: int) -> None:
    """Map a bot message in the group to an open ticket (nothing if it is gone meanwhile)."""
    k.conn.execute(
        f"INSERT OR REPLACE INTO {logschema.TICKET_MESSAGES} (group_chat, message_id, ticket) "
        f"SELECT ?, ?, number FROM {logschema.TICKETS} WHERE number = ?",
        (group_chat, message_id, number),
    )


def _delete(k: Keyed, where: str, params: tuple[object, ...]) -> int:
    """Delete tickets (their message links go with them, by cascade) and return how many."""
    gone = int(k.conn.execute(f"DELETE FROM {logschema.TICKETS} WHERE {where}", params).rowcount)
    k.deleted += gone
    return gone


def _count(k: Keyed, event: Event, n: int = 1) -> None:
    k.conn.execute(
        f"INSERT INTO {logschema.TICKET_COUNTS} (day, event, n) VALUES (?, ?, ?) "
        "ON CONFLICT (day, event) DO UPDATE SET n = n + excluded.n",
        (k.today.isoformat(), event, n),
    )


class MemoryRunner:
    """Tickets in this process's memory only, for a bot without question log: the same SQL on
    an in-memory database, with a key of its own; a restart forgets every ticket."""

    def __init__(self, *, today: Callable[[], date] = date.today) -> None:
        self._today = today
        self._secret = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._db = logschema.connect(Path(":memory:"), busy_timeout_ms=1000)
        logschema.ensure_schema(self._db)

    def transact(self, work: Callable[[Keyed], R]) -> R:
        with self._lock, logschema.transaction(self._db.conn):
            return work(Keyed(self._db.conn, self._secret, self._today()))

    def close(self) -> None:
        self._db.close()


def read_ticket_counts(
    db_path: Path, *, since: date | None = None, until: date | None = None
) -> TicketCounts:
    """Counts of ticket events between ``since`` and ``until`` (inclusive) and the tickets open
    now (expiry runs daily, so at most a day late); zeros when the log does not exist.
    Read-only apart from the schema migration."""
    with open_log(db_path) as db:
        if db is None:
            return TicketCounts()
        with _reading(db.conn) as conn:
            counts = dict.fromkeys(EVENTS, 0)
            for event, n in conn.execute(
                f"SELECT event, SUM(n) FROM {logschema.TICKET_COUNTS} "
                "WHERE day BETWEEN ? AND ? GROUP BY event",
                (
                    since.isoformat() if since else "0000-01-01",
                    until.isoformat() if until else "9999-12-31",
                ),
            ):
                if event in counts:
                    counts[event] = int(n)
            open_now = conn.execute(f"SELECT COUNT(*) FROM {logschema.TICKETS}").fetchone()[0]
    return TicketCounts(**counts, open_now=int(open_now))


@contextlib.contextmanager
def _reading(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")
