"""Shared pytest fixtures."""

from collections.abc import AsyncIterator

import pytest
from fakebotapi import FakeBotApi


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotApi]:
    """A running fake Bot API server; build the bot with ``fake_api.builder()``."""
    async with FakeBotApi() as api:
        yield api
