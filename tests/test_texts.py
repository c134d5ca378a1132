"""The text catalogue: every user-facing text of the chat comes from bot/chat/texts.de.yaml."""

from __future__ import annotations

import ast
import re
import unicodedata
from pathlib import Path

import pytest

from bot.chat import commands, smalltalk
from bot.chat.texts import HERE, Html, TextError, Texts
from bot.config import PROJECT_ROOT
from bot.knowledge.schema import KIND_LABELS, STATUS_LABELS

TEXTS = Texts.load()
CHAT = PROJECT_ROOT / "bot" / "chat"
# Modules that build what the user reads. texts.py itself only loads the catalogue.
SPEAKERS = sorted(p for p in CHAT.glob("*.py") if p.name not in ("texts.py", "__init__.py"))
# Where the project team's chat texts are sent from (the "team" section of the catalogue).
TEAM_SPEAKERS = [
    PROJECT_ROOT / "handlers" / "team.py",
    PROJECT_ROOT / "bot" / "runtime" / "maintenance.py",
]
KEY = re.compile(r"[a-zäöüß_]+(\.[a-z_]+)*\.?")
PROSE = re.compile(r"[^\W\d_]{2,}[ \t]+[^\W\d_]{2,}")
TEXT_CALL = re.compile(
    r"\b(?:t|texts|self\.texts|conversation\.texts|(?:\w+\.)*team_texts)(?:\.plural|\.plain)?"
    r"""\(\s*["']([\w.]+)["']"""
)


def _wordlike(ch: str) -> bool:
    """Letters beyond ASCII and emoji are copy; typographic punctuation ("…", "„") is not."""
    return ord(ch) > 127 and (ch.isalpha() or unicodedata.category(ch) == "So")


def _docstrings(tree: ast.AST) -> set[int]:
    """Docstrings, and the bare strings under a constant that document it."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            found.add(id(node.value))
    return found


def _exempt(tree: ast.AST) -> set[int]:
    """Constants that are not copy: exception messages, regular expressions, typed aliases,
    log lines and the reasons a process stops with (for the operator, not a chat), and texts
    compared with an error's ("not modified" in str(exc))."""
    exempt: set[int] = set()
    for node in ast.walk(tree):
        parts: list[ast.AST] = []
        if isinstance(node, ast.Raise) and node.exc is not None:
            parts = [node.exc]
        elif isinstance(node, ast.Compare):
            parts = [node.left, *node.comparators]
        elif isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if name.startswith(("re.", "logger.")) or name in ("_compile", "liveness.stop"):
                parts = list(node.args)
            parts += [k.value for k in node.keywords if k.arg == "typed"]
        for part in parts:
            exempt.update(id(n) for n in ast.walk(part))
    return exempt


@pytest.mark.parametrize("path", SPEAKERS + TEAM_SPEAKERS, ids=lambda p: p.name)
def test_no_user_facing_text_is_written_in_code(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree) | _exempt(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
            continue
        if id(node) in skip:
            continue
        text = node.value
        if KEY.fullmatch(text):
            continue  # a catalogue key or key prefix such as "command."
        if PROSE.search(text) or any(_wordlike(ch) for ch in text) or re.search(r"\w[.!?]$", text):
            found.append((node.lineno, text))
    assert found == [], f"{path.name}: texts belong in texts.de.yaml: {found}"


def _asked_keys() -> set[str]:
    """Keys named in calls of the catalogue: t("…"), texts.plain("…"), texts.plural("…")."""
    asked = set()
    for path in SPEAKERS + TEAM_SPEAKERS:
        asked.update(TEXT_CALL.findall(path.read_text(encoding="utf-8")))
    return asked


def _used_keys() -> set[str]:
    """Every string in the chat code that is a key: asked for directly or handed on."""
    used = _asked_keys()
    for path in SPEAKERS + TEAM_SPEAKERS:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
            if is_text and TEXTS.has(node.value):
                used.add(node.value)
    return used


def _dynamic_keys() -> set[str]:
    """Keys the code builds from data: per command, small-talk kind, entry kind and status."""
    return (
        {f"command.{c.name}" for c in commands.COMMANDS if c.menu}
        | {f"smalltalk.{kind}" for kind in smalltalk.KINDS}
        | {f"kind.{kind}" for kind in KIND_LABELS}
        | {f"status.{status}" for status in STATUS_LABELS}
        | {f"detail.{name}" for name in ("web", "email", "phone", "address", "note")}
        | {f"team.command.{c.name}" for c in commands.COMMANDS if c.team}
    )


def test_every_text_the_code_asks_for_is_in_the_catalogue() -> None:
    missing = sorted(k for k in _asked_keys() | _dynamic_keys() if not TEXTS.has(k))
    assert missing == []


def test_the_catalogue_holds_no_dead_text() -> None:
    unused = sorted(set(TEXTS.messages) - _used_keys() - _dynamic_keys())
    assert unused == []


def test_the_catalogue_is_one_file_per_language_with_the_same_keys_in_each() -> None:
    files = sorted(HERE.glob("texts.*.yaml"))
    assert "texts.de.yaml" in [f.name for f in files]
    for path in files:
        other = Texts.load(path.name.split(".")[1])
        assert set(other.messages) == set(TEXTS.messages), path.name


def test_fields_are_escaped_unless_they_are_html_already() -> None:
    counted = {"one": "{count} Frage", "other": "{count} Fragen"}
    texts = Texts("de", {"a": "<b>{x}</b>", "n": counted})
    assert texts("a", x="<i>&") == "<b>&lt;i&gt;&amp;</b>"
    assert texts("a", x=Html("<i>ok</i>")) == "<b><i>ok</i></b>"
    assert isinstance(texts("a", x=""), Html)
    assert [texts.plural("n", n) for n in (0, 1, 2)] == ["0 Fragen", "1 Frage", "2 Fragen"]
    with pytest.raises(TextError):
        texts("gibt-es-nicht")
    with pytest.raises(TextError):
        texts.plural("a", 1)


def test_counted_texts_have_both_forms_and_use_the_count() -> None:
    plurals = [k for k, v in TEXTS.messages.items() if not isinstance(v, str)]
    assert plurals, "the catalogue has counted texts"
    for key in plurals:
        assert "count" in TEXTS.fields(key), key
        one, other = (
            TEXTS.plural(key, n, **dict.fromkeys(TEXTS.fields(key) - {"count"}, "x"))
            for n in (1, 2)
        )
        assert one != other, key


def test_the_status_and_kind_words_of_the_knowledge_schema_have_texts() -> None:
    for status in STATUS_LABELS:
        assert TEXTS(f"status.{status}").strip()
    for kind in KIND_LABELS:
        assert TEXTS(f"kind.{kind}").strip()
