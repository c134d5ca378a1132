"""What the bot says, the same in Telegram and in the terminal: conversation, buttons, services."""

from bot.chat import actions
from bot.chat.conversation import Button, Conversation, Reply, reload_message, split_message
from bot.chat.services import SeenUpdates, Services, UserRateLimit

__all__ = [
    "Button",
    "Conversation",
    "Reply",
    "SeenUpdates",
    "Services",
    "UserRateLimit",
    "actions",
    "reload_message",
    "split_message",
]
