"""Telegram handlers: thin adapters from updates to bot.chat.conversation."""
