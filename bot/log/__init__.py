"""The question log: pseudonymous, redacted, with retention; and the statistics read from it.

The tickets of the handoff to the counselling office live in the same file (bot/log/tickets.py);
the report sees them only as counts (``read_ticket_counts``).
"""

from bot.log.gaps import GapGroup, group_questions, normalise, text_hash
from bot.log.stats import LogStats, read_stats
from bot.log.tickets import (
    MemoryRunner,
    Ticket,
    TicketCounts,
    TicketError,
    TicketStore,
    read_ticket_counts,
)
from bot.log.writer import QuestionLog, load_or_create_secret

__all__ = [
    "GapGroup",
    "LogStats",
    "MemoryRunner",
    "QuestionLog",
    "Ticket",
    "TicketCounts",
    "TicketError",
    "TicketStore",
    "group_questions",
    "load_or_create_secret",
    "normalise",
    "read_stats",
    "read_ticket_counts",
    "text_hash",
]
