"""The pseudonym key: configured, or a key file created once beside the database.

The question log stores a keyed pseudonym (HMAC) per question only so that ``/vergessen`` can
find a person's questions. Without the key the pseudonym cannot be linked to a Telegram
account, so the key file is private (0600) and never stored in the database.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import re
import secrets
from pathlib import Path

logger = logging.getLogger(__name__)

MIN_KEY_BYTES = 16
_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")
_MIN_ENV_SECRET = 32


def pseudonym(secret: bytes, user_id: int) -> str:
    """Keyed, so ids cannot be recovered by hashing all possible Telegram ids."""
    return hmac.new(secret, str(user_id).encode(), hashlib.sha256).hexdigest()


def secret_path(db_path: Path) -> Path:
    """Where the pseudonym key lives when none is configured: beside the database."""
    return db_path.with_name(db_path.name + ".key")


def load_or_create_secret(db_path: Path, env_secret: str | None) -> bytes:
    """Return the pseudonym key: the configured value, else a key file created once.

    A configured value of 64 hex digits is used as raw bytes (so a key file can be moved
    into the environment unchanged); other values must have at least 32 characters.
    Changing the key makes earlier pseudonyms unmatchable for ``forget()``.
    """
    if env_secret and env_secret.strip():
        value = env_secret.strip()
        if _HEX_KEY.fullmatch(value):
            return bytes.fromhex(value)
        if len(value) < _MIN_ENV_SECRET:
            raise ValueError(
                f"Der konfigurierte Schlüssel für Pseudonyme ist zu kurz (mindestens "
                f"{_MIN_ENV_SECRET} Zeichen). Erzeugen mit: "
                'python -c "import secrets; print(secrets.token_hex(32))"'
            )
        return value.encode()
    path = secret_path(Path(db_path))
    if not path.exists():
        _create_key_file(path)
    return _read_key_file(path)


def _create_key_file(path: Path) -> None:
    """Write the key to a private temp file and link it into place, so two processes
    starting at once agree on one key and nobody reads a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _read_key_file(path: Path) -> bytes:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        logger.warning("Schlüsseldatei %s war für andere lesbar; Rechte auf 0600 gesetzt", path)
        path.chmod(0o600)
    value = path.read_text(encoding="ascii").strip()
    if not _HEX_KEY.fullmatch(value):
        raise ValueError(f"Die Schlüsseldatei {path} ist beschädigt (erwartet: 64 Hex-Zeichen).")
    return bytes.fromhex(value)
