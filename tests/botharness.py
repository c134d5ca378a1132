"""Compatibility names for tests written against the former harness; use tests/harness.py.

Kept until the tests of parallel branches have moved over; then this module goes.
"""

from harness import TEAM, USER, button, buttons, question_update, running, until
from harness import LiveBot as RunningBot

__all__ = ["TEAM", "USER", "RunningBot", "button", "buttons", "question_update", "running", "until"]
