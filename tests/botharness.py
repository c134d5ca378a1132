"""Compatibility names for tests written against the former harnesses; use tests/harness.py.

Kept until the tests of parallel branches have moved over; then this module goes (and its
import in conftest.py).
"""

import pytest
from harness import TEAM, USER, LiveBot, button, buttons, question_update, running, until

RunningBot = LiveBot


@pytest.fixture
async def live(running: LiveBot) -> LiveBot:
    """The former name of ``running`` in tests/test_faults.py."""
    return running


__all__ = [
    "TEAM",
    "USER",
    "RunningBot",
    "button",
    "buttons",
    "live",
    "question_update",
    "running",
    "until",
]
