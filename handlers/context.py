"""A typed callback context: handlers reach the services as properties, not dict lookups."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.chat.conversation import Conversation
from bot.chat.services import Services

SERVICES_KEY = "services"


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """python-telegram-bot's `contexttypesbot.py` pattern, with the bot's own services."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)

    @property
    def services(self) -> Services:
        return self.application.bot_data[SERVICES_KEY]  # type: ignore[no-any-return]

    @property
    def conversation(self) -> Conversation:
        return self.services.conversation
