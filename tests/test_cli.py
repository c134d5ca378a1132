"""The command line, run for real through click's CliRunner on ``bot.cli.cli``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import FIXTURE_KB

from bot.chat.conversation import Conversation, status_text
from bot.chat.terminal import chat
from bot.cli import cli
from bot.config import DEFAULT_KB, PROJECT_ROOT
from bot.knowledge.schema import KnowledgeBase, load_knowledge
from bot.search.library import Library

HERNE = DEFAULT_KB.parent / "herne"
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

# The export shape of one entry (Entry.to_json), as the intranet consumes it.
EXPORTED_FIELDS = {
    "id",
    "kind",
    "ref",
    "title",
    "answer",
    "topic",
    "target_group",
    "status",
    "deadline",
    "contacts",
    "synonyms",
    "examples",
    "related_refs",
    "web",
    "email",
    "phone",
    "address",
    "note",
    "source",
}
# Their English twins (null where not translated), added after the German contract.
EXPORTED_ENGLISH = {
    "title_en",
    "answer_en",
    "target_group_en",
    "note_en",
    "source_en",
    "synonyms_en",
    "examples_en",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No stray .env, settings or database of the developer's machine leak into a test."""
    for name in list(os.environ):
        if name.startswith(("BOT_", "TELEGRAM_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BOT_SEMANTIC", "aus")  # the words-only engine, as in every other test
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def koeln() -> KnowledgeBase:
    return load_knowledge(DEFAULT_KB)


def run(
    *args: str | Path,
    input: str | None = None,
    env: dict[str, str] | None = None,
) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, env=env)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must stand exactly once in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def json_lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


# --- ask ----------------------------------------------------------------------------------------


def test_ask_prints_the_answer_card_as_plain_text(koeln: KnowledgeBase) -> None:
    result = run("ask", "Was ist eigentlich Maßnahme 8.1.2?")
    assert result.exit_code == 0, result.output
    entry = koeln.by_ref["8.1.2"]
    lines = result.stdout.splitlines()
    assert lines[:2] == [entry.title, "Maßnahme 8.1.2"]
    assert f"👥 Für wen: {entry.target_group}" in lines
    assert f"📌 Stand: {status_text(koeln, entry)}" in lines
    buttons = [line for line in lines if line.startswith("  [")]
    assert buttons[:2] == ["  [1] 👍 Hat geholfen", "  [2] 👎 Nicht geholfen"]
    assert buttons[-1] == f"  [{len(buttons)}] 📚 Themen"
    assert all("Passt auch: " in line for line in buttons[2:-1]) and len(buttons) > 3
    assert "<b>" not in result.stdout and "&amp;" not in result.stdout


def test_ask_unknown_names_the_counselling_office(koeln: KnowledgeBase) -> None:
    result = run("ask", "Wie hoch ist der Kölner Dom")
    assert result.exit_code == 0
    assert result.stdout.startswith("Dazu weiß ich leider nichts.")
    assert f"Persönlich weiter hilft Ihnen: {koeln.counselling_contact.title}" in result.stdout


def test_ask_ambiguous_lists_the_choices_and_nothing_of_these() -> None:
    result = run("ask", "--kb", FIXTURE_KB, "checkliste")  # two checklists about equally good
    lines = result.stdout.splitlines()
    assert lines[0] == "Meinten Sie eines dieser Angebote?"
    choices = [line for line in lines if re.match(r"  \[\d\] ", line)]
    assert 3 <= len(choices) <= 4
    assert choices[-1] == f"  [{len(choices)}] Nichts davon"


def test_ask_small_talk_is_answered_kindly() -> None:
    assert run("ask", "Danke!").stdout.startswith("Gern geschehen!")


def test_ask_json_has_the_documented_shape(koeln: KnowledgeBase) -> None:
    result = run("ask", "--json", "kita")
    assert result.exit_code == 0
    [data] = json_lines(result)
    assert list(data) == ["question", "answered", "outcome", "matches"]
    assert data["question"] == "kita"
    assert data["outcome"] in ("answered", "ambiguous", "unknown")
    assert data["answered"] is (data["outcome"] == "answered")
    matches = data["matches"]
    assert isinstance(matches, list) and len(matches) >= 3
    for match in matches:
        assert list(match) == ["id", "kind", "ref", "title", "score"]
        entry = koeln.entries[match["id"]]
        assert (match["kind"], match["ref"], match["title"]) == (entry.kind, entry.ref, entry.title)
        assert isinstance(match["score"], float)
    assert [m["score"] for m in matches] == sorted((m["score"] for m in matches), reverse=True)
    assert any(m["ref"] is None for m in matches), "a contact or service has ref null"
    assert '"ref": null' in result.stdout


def test_ask_json_for_an_unknown_question_still_lists_the_nearest_entries() -> None:
    [data] = json_lines(run("ask", "--json", "asdf"))
    assert (data["answered"], data["outcome"]) == (False, "unknown")
    assert isinstance(data["matches"], list) and len(data["matches"]) >= 3


def test_ask_reads_one_question_per_line_from_stdin_and_answers_in_order() -> None:
    result = run("ask", "--json", input="kita\nsabbatical\nasdf\nMaßnahme 4.2.1\n")
    assert result.exit_code == 0
    answers = json_lines(result)
    assert [a["question"] for a in answers] == ["kita", "sabbatical", "asdf", "Maßnahme 4.2.1"]
    assert [a["outcome"] for a in answers][2] == "unknown"
    assert answers[3]["matches"][0]["ref"] == "4.2.1"


def test_ask_from_a_real_pipe_ignores_windows_line_endings(tmp_path: Path) -> None:
    """A real pipe keeps "\\r\\n" (CliRunner's stdin would translate it), so run the module."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json"],
        input=b"kita\r\nsabbatical\r\n",
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    answers = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [a["question"] for a in answers] == ["kita", "sabbatical"]


def test_ask_from_stdin_as_text_prints_one_reply_per_question(koeln: KnowledgeBase) -> None:
    result = run("ask", input="Spielekoffer\nWie hoch ist der Kölner Dom\n")
    assert result.stdout.startswith(koeln.entries["spielekoffer"].title)
    assert "Dazu weiß ich leider nichts." in result.stdout


# --- check --------------------------------------------------------------------------------------


@pytest.mark.parametrize("directory", [DEFAULT_KB, HERNE], ids=["koeln", "herne"])
def test_check_passes_on_the_bundled_knowledge_bases(directory: Path) -> None:
    kb = load_knowledge(directory)
    result = run("check", "--kb", directory)
    assert result.exit_code == 0, result.output
    examples = sum(len(e.examples) for e in kb.entries.values())
    assert result.stdout.splitlines() == [
        f"{kb.organisation.name}: {len(kb.entries)} Einträge, {len(kb.topics)} Themen, "
        f"Version {kb.version}.",
        f"Selbsttest: alle {examples} Beispielfragen finden ihren Eintrag.",
    ]
    assert result.stderr == ""


def test_check_fails_with_german_errors_naming_file_and_line(koeln_copy: Path) -> None:
    path = koeln_copy / "massnahmen.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    entry_line = lines.index("  - id: gleitzeit\n") + 1
    answer = next(i for i in range(entry_line, len(lines)) if lines[i].startswith("    antwort:"))
    del lines[answer]
    path.write_text("".join(lines), encoding="utf-8")

    result = run("check", "--kb", "koeln")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"koeln/massnahmen.yaml, Zeile {entry_line}: Eintrag 'gleitzeit': "
        "Pflichtfeld 'antwort' fehlt",
        "1 Fehler – die Wissensbasis wurde nicht übernommen.",
    ]
    assert "Traceback" not in result.output


def test_check_counts_every_error_of_every_file(koeln_copy: Path) -> None:
    (koeln_copy / "kaputt.yaml").write_text(
        'massnahmen:\n  - id: x\n    titel: "offen\n', encoding="utf-8"
    )
    (koeln_copy / "boese.yaml").write_text(
        "x: !!python/object/apply:os.system [ls]\n", encoding="utf-8"
    )
    result = run("check", "--kb", koeln_copy)
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert errors[-1] == "2 Fehler – die Wissensbasis wurde nicht übernommen."
    assert errors[0].endswith(
        "boese.yaml, Zeile 1: YAML-Tag "
        "'tag:yaml.org,2002:python/object/apply:os.system' ist nicht erlaubt"
    )
    assert re.search(r"kaputt\.yaml, Zeile 3: YAML-Syntaxfehler: ", errors[1])


def test_check_passes_with_warnings(fixture_copy: Path) -> None:
    edit(
        fixture_copy / "massnahmen.yaml",
        'stichworte: ["Gleitzeit", "Kernzeit",',
        'stichworte: ["Gleitzeit", "Kernzeit", "Seminar",',
    )
    result = run("check", "--kb", fixture_copy, "--ohne-selbsttest")
    assert result.exit_code == 0, result.output
    assert "Warnung: Stichwort 'seminar' steht bei mehreren Einträgen: " in result.stdout
    assert "Selbsttest" not in result.output


def test_check_fails_when_an_example_question_finds_another_entry(fixture_copy: Path) -> None:
    anchor = '      - "gibt es noch eine kernzeit"\n'
    edit(fixture_copy / "massnahmen.yaml", anchor, anchor + '      - "Seminare"\n')
    result = run("check", "--kb", fixture_copy)
    assert result.exit_code == 1
    assert (
        "Selbsttest: Eintrag 'gleitzeit': Beispielfrage „Seminare“ findet zuerst 'fortbildung'"
    ) in result.stderr.splitlines()
    assert "Selbsttest: 1 von " in result.stderr


def test_check_on_a_missing_folder() -> None:
    result = run("check", "--kb", "gibt-es-nicht")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "gibt-es-nicht: Ordner der Wissensbasis nicht gefunden",
        "1 Fehler – die Wissensbasis wurde nicht übernommen.",
    ]


# --- export -------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["export", "--json"], ["export"]])
def test_export_contains_every_entry_with_the_documented_fields(
    koeln: KnowledgeBase, args: list[str]
) -> None:
    result = run(*args)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert set(data) == {"organisation", "version", "topics", "entries"}
    assert data["organisation"]["name"] == koeln.organisation.name
    assert data["version"] == koeln.version
    assert [t["id"] for t in data["topics"]] == list(koeln.topics)
    assert [e["id"] for e in data["entries"]] == list(koeln.entries)
    for exported in data["entries"]:
        assert set(exported) == EXPORTED_FIELDS | EXPORTED_ENGLISH
        assert set(list(exported)[: len(EXPORTED_FIELDS)]) == EXPORTED_FIELDS  # German first
        entry = koeln.entries[exported["id"]]
        assert exported["title"] == entry.title and exported["answer"] == entry.answer
        assert exported["contacts"] == list(entry.contacts)
        assert exported["ref"] == entry.ref
        # English: the twins of the German fields, as the knowledge base has them.
        assert exported["title_en"] == entry.title_en and exported["answer_en"] == entry.answer_en
        assert exported["target_group_en"] == entry.target_group_en
        assert exported["note_en"] == entry.note_en and exported["source_en"] == entry.source_en
        assert exported["synonyms_en"] == list(entry.synonyms_en)
        assert exported["examples_en"] == list(entry.examples_en)
        assert exported["title_en"] and exported["answer_en"]  # every bundled entry translated
    assert data["organisation"]["name_en"] == "Stadt Köln (City of Cologne)"
    assert data["organisation"]["source_en"] == koeln.organisation.source_en
    assert {"id", "number", "title", "description"} < set(data["topics"][0])
    assert data["topics"][0]["title_en"] == "Working hours"
    assert all(t["title_en"] and t["description_en"] for t in data["topics"])
    measures = [e for e in data["entries"] if e["kind"] == "measure"]
    assert len(measures) == 29


def test_export_refuses_a_broken_knowledge_base(koeln_copy: Path) -> None:
    (koeln_copy / "kaputt.yaml").write_text("massnahmen: [\n", encoding="utf-8")
    result = run("export", "--kb", koeln_copy)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Fehler: Die Wissensbasis ist fehlerhaft:\n")
    assert "kaputt.yaml, Zeile 1: YAML-Syntaxfehler" in result.stderr


# --- --kb on every command ----------------------------------------------------------------------


def test_kb_option_on_ask() -> None:
    [data] = json_lines(run("ask", "--kb", HERNE, "--json", "Mentoring für Frauen"))
    assert data["matches"][0]["id"] == "mentoring-frauen"


def test_kb_option_on_check_and_export() -> None:
    assert run("check", "--kb", HERNE).stdout.startswith("Stadt Herne: ")
    data = json.loads(run("export", "--kb", HERNE).stdout)
    assert data["organisation"]["name"] == "Stadt Herne"


def test_kb_option_on_chat(tmp_path: Path) -> None:
    result = run("chat", "--kb", HERNE, "--db", tmp_path / "log.db", input="exit\n")
    assert result.exit_code == 0, result.output
    assert "<b>Stadt Herne</b>" not in result.stdout
    assert "Stadt Herne" in result.stdout


def test_kb_option_on_status(tmp_path: Path) -> None:
    result = run("status", "--kb", HERNE, "--db", tmp_path / "log.db")
    assert f"Wissensbasis: {HERNE} – Stadt Herne, " in result.stdout


def test_kb_option_on_run_stops_before_connecting_when_broken(koeln_copy: Path) -> None:
    (koeln_copy / "kaputt.yaml").write_text("massnahmen: [\n", encoding="utf-8")
    result = run("run", "--kb", koeln_copy, env={"TELEGRAM_BOT_TOKEN": TOKEN})
    assert result.exit_code == 1
    assert result.stderr.startswith("Fehler: Die Wissensbasis ist fehlerhaft:")


def test_kb_given_before_the_command_counts_too() -> None:
    """``python -m bot --kb knowledge/herne ask …`` must not silently answer from Köln."""
    [data] = json_lines(run("--kb", HERNE, "ask", "--json", "Mentoring für Frauen"))
    assert data["matches"][0]["id"] == "mentoring-frauen"
    assert run("--kb", HERNE, "check").stdout.startswith("Stadt Herne: ")


def test_knowledge_dir_from_the_environment(tmp_path: Path) -> None:
    result = run("check", env={"BOT_KNOWLEDGE_DIR": str(HERNE)})
    assert result.stdout.startswith("Stadt Herne: ")


# --- bad settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["ask", "kita"],
        ["ask", "--json", "kita"],
        ["check"],
        ["export"],
        ["chat"],
        ["run"],
        ["status"],
        [],
    ],
    ids=lambda c: " ".join(c) or "(kein Befehl)",
)
def test_a_bad_setting_gives_one_german_line_and_no_traceback(command: list[str]) -> None:
    result = run(*command, env={"BOT_RETENTION_DAYS": "abc"}, input="")
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit)
    assert [line for line in result.output.splitlines() if line.strip()] == [
        "Fehler: BOT_RETENTION_DAYS: 'abc' ist keine ganze Zahl",
    ]


def test_a_malformed_token_is_reported_without_showing_it() -> None:
    almost = TOKEN.replace(":", "")
    result = run("ask", "kita", env={"TELEGRAM_BOT_TOKEN": almost})
    assert result.exit_code == 1
    assert result.output.startswith("Fehler: TELEGRAM_BOT_TOKEN hat nicht die Form")
    assert almost not in result.output


def test_a_bad_setting_in_dotenv_is_reported_the_same_way(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BOT_TEAM_IDS=chefin\n", encoding="utf-8")
    result = run("check")
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Fehler: BOT_TEAM_IDS: 'chefin' ist keine numerische "
        "Telegram-Nutzer-ID (kommagetrennte Zahlen erwartet)"
    )


# --- terminal chat ------------------------------------------------------------------------------


@pytest.fixture
def talk(koeln_library: Library) -> Conversation:
    return Conversation(lambda: koeln_library.current, channel="terminal")


def button_number(text: str, label_start: str) -> str:
    found = re.search(rf"^  \[(\d+)\] {re.escape(label_start)}", text, re.MULTILINE)
    assert found, (label_start, text)
    return found.group(1)


def test_terminal_chat_shows_numbered_buttons_and_a_number_presses_one(
    talk: Conversation, koeln: KnowledgeBase
) -> None:
    out: list[str] = []
    measure = koeln.by_ref["1.1.2"]

    def typed() -> Iterator[str]:
        yield "1"  # the first topic of the welcome menu
        yield button_number(out[-1], measure.title)
        yield "exit"

    chat(talk, lines=typed(), write=out.append)
    welcome, topic_page, card = out[0], out[2], out[3]
    topics = list(koeln.topics.values())
    assert "  [1] " + topics[0].title in welcome.splitlines()
    assert f"  [{len(topics) + 1}] 👤 Ansprechstellen" in welcome.splitlines()
    assert topic_page.startswith(f"\nBot: 📚 Handlungsfeld 1: {topics[0].title}")
    assert card.startswith(f"\nBot: {measure.title}\nMaßnahme 1.1.2")
    assert "<b>" not in "".join(out)


def test_terminal_chat_numbers_refer_to_the_latest_reply(
    talk: Conversation, koeln_library: Library
) -> None:
    out: list[str] = []
    chosen = koeln_library.current.index.search("checkliste").choices[0].entry
    chat(talk, lines=["checkliste", "1", "2"], write=out.append)
    choices, card, feedback = out[2], out[3], out[4]
    assert choices.startswith("\nBot: Meinten Sie eines dieser Angebote?")
    assert card.startswith(f"\nBot: {chosen.title}")
    assert "  [2] 👎 Nicht geholfen" in card.splitlines()
    assert "👎 Danke für Ihre Rückmeldung" in feedback  # "2" pressed 👎 under the card
    assert out[-1] == ""  # the end of the input ends the chat


def test_terminal_chat_commands_and_numbers_that_are_no_button(
    talk: Conversation, koeln: KnowledgeBase
) -> None:
    out: list[str] = []
    chat(
        talk,
        lines=["/kontakt", "99", "/gibtsnicht", "", "ende", "nicht mehr gelesen"],
        write=out.append,
    )
    contacts, unknown_number, unknown_command = out[2], out[3], out[4]
    assert contacts.startswith("\nBot: 👤 Ansprechstellen")
    assert f"  [1] {koeln.counselling_contact.title}" in contacts.splitlines()
    # /kontakt shows one button per contact and Themen: 99 is no button, so the chat says
    # which numbers are.
    shown = len(koeln.contacts()) + 1
    assert unknown_number == f"\nBot: Bitte wählen Sie eine Nummer von 1 bis {shown}."
    assert unknown_command == "\nBot: Diesen Befehl kenne ich nicht. /hilfe zeigt, was ich kann."
    assert len(out) == 5
