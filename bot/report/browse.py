"""A copy of the question log that is safe to browse with Datasette, whatever the log is called.

Datasette's metadata closes tables by database name, so metadata written for ``fragen.db``
leaves a log served as ``protokoll.db`` wide open, pseudonym column included. Instead of
trusting a name, ``python -m bot browse`` serves a copy that holds only what the team may
see: the question texts and counts under German column names, without question ids,
pseudonyms, handled update ids or the ignore list. The copy has a fixed name, so the
metadata below always applies; it is also written to docs/datasette.yml (a test keeps the
two equal).
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from bot.log import schema as logschema
from bot.report.fmt import FOLLOWUP_LABELS, OUTCOME_VALUES

NAME = "fragenprotokoll"
"""The copy's file stem, which is Datasette's database name."""

_OUTCOME = "CASE outcome " + " ".join(
    f"WHEN '{key}' THEN '{label}'" for key, label in OUTCOME_VALUES.items()
) + " ELSE outcome END"  # fmt: skip
_FOLLOWUP = "CASE followup " + " ".join(
    f"WHEN '{key}' THEN '{label}'" for key, label in FOLLOWUP_LABELS.items()
) + " ELSE followup END"  # fmt: skip
"""The kind of a follow-up about the last answer; NULL for a question of its own."""
_COPY = (
    f"""CREATE TABLE fragen AS SELECT day AS tag, question AS frage, {_OUTCOME} AS ergebnis,
        entry_id AS eintrag, topic AS thema, chosen_entry AS gewaehlter_eintrag,
        feedback AS hilfreich, gap AS nichts_davon, score, kb_version, channel AS kanal,
        {_FOLLOWUP} AS nachfrage FROM src.{logschema.QUESTIONS} ORDER BY day, rowid""",
    f"""CREATE TABLE tageszahlen AS SELECT day AS tag, NULLIF(topic, '') AS thema,
        NULLIF(entry_id, '') AS eintrag, {_OUTCOME} AS ergebnis, questions AS fragen,
        helpful AS hilfreich, unhelpful AS nicht_hilfreich, chosen AS eintrag_gewaehlt,
        gaps AS nichts_davon FROM src.{logschema.DAILY} ORDER BY day""",
)

METADATA: dict[str, Any] = {
    "title": "vereinbar – Fragenprotokoll",
    "description": (
        "Auswertungen für das Projektteam: geschwärzte Fragetexte und Tageszahlen. "
        "Keine Namen, keine Telegram-Kennungen, keine Pseudonyme."
    ),
    "databases": {
        NAME: {
            "allow_sql": False,
            "queries": {
                "unbeantwortet": {
                    "title": "Unbeantwortete Fragen und „Nichts davon“",
                    "sql": (
                        "select tag, frage, ergebnis, eintrag as naechster_eintrag from fragen\n"
                        "where ergebnis in ('unbeantwortet', 'Fehler') or nichts_davon = 1\n"
                        "order by tag desc limit 500"
                    ),
                },
                "negativ_bewertet": {
                    "title": "Mit 👎 bewertete Antworten",
                    "sql": (
                        "select tag, frage, eintrag, score from fragen where hilfreich = 0\n"
                        "order by tag desc limit 500"
                    ),
                },
                "je_woche": {
                    "title": "Fragen je Kalenderwoche und Ergebnis",
                    "sql": (
                        "select strftime('%Y-W%W', tag) as woche, ergebnis, sum(n) as fragen\n"
                        "from (select tag, ergebnis, count(*) as n from fragen\n"
                        "      group by tag, ergebnis\n"
                        "      union all\n"
                        "      select tag, ergebnis, sum(fragen) from tageszahlen\n"
                        "      group by tag, ergebnis)\n"
                        "group by woche, ergebnis order by woche desc, ergebnis"
                    ),
                },
                "bewertungen_je_eintrag": {
                    "title": "👍/👎 je Eintrag",
                    "sql": (
                        "select eintrag, sum(hilfreich = 1) as hilfreich,\n"
                        "       sum(hilfreich = 0) as nicht_hilfreich, count(*) as antworten\n"
                        "from fragen where ergebnis = 'beantwortet'\n"
                        "group by eintrag order by antworten desc"
                    ),
                },
            },
        }
    },
}
"""Datasette metadata for the copy: no free SQL, only the canned queries."""


def prepare(db_path: Path, directory: Path) -> tuple[Path, Path]:
    """Write the safe copy (``fragenprotokoll.db``) and its metadata into ``directory``.

    The log is opened read-only, so a running bot is not disturbed and a mistyped path is
    not created. Returns (database, metadata) paths; both are readable by the owner only.
    """
    source = Path(db_path)
    if not source.exists():
        raise FileNotFoundError(f"Kein Fragenprotokoll unter {source}")
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{NAME}.db"
    target.unlink(missing_ok=True)
    target.touch(mode=0o600)
    os.chmod(target, 0o600)
    conn = sqlite3.connect(target.resolve().as_uri(), uri=True, isolation_level=None)
    try:
        uri = f"{source.resolve().as_uri()}?mode=ro"
        conn.execute("ATTACH DATABASE ? AS src", (uri,))
        conn.execute("BEGIN")
        for statement in _COPY:
            conn.execute(statement)
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE src")
        conn.execute("VACUUM")
    finally:
        conn.close()
    metadata = directory / "metadata.json"
    metadata.write_text(json.dumps(METADATA, ensure_ascii=False, indent=2), encoding="utf-8")
    os.chmod(metadata, 0o600)
    return target, metadata
