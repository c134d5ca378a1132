"""The question log: pseudonymous, redacted, with retention; and the statistics read from it."""

from bot.log.gaps import GapGroup, group_questions, normalise, text_hash
from bot.log.stats import LogStats, read_stats
from bot.log.writer import QuestionLog, load_or_create_secret

__all__ = [
    "GapGroup",
    "LogStats",
    "QuestionLog",
    "group_questions",
    "load_or_create_secret",
    "normalise",
    "read_stats",
    "text_hash",
]
