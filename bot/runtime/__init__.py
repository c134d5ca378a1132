"""The running Telegram bot: Application wiring, delivery, upkeep, operations, HTTP transport."""

from bot.runtime.app import build_application, run_bot
from bot.runtime.ops import backup, read_heartbeat
from bot.runtime.transport import AiohttpRequest

__all__ = ["AiohttpRequest", "backup", "build_application", "read_heartbeat", "run_bot"]
