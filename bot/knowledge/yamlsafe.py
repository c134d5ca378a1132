"""Safe, bounded YAML reading that keeps line numbers for German error messages.

PyYAML's ``safe_load`` forgets where a value came from and happily expands alias bombs, so the
knowledge base is read in two passes: an event scan that rejects what a knowledge base never
needs (anchors, aliases, custom tags, huge files), then a node walk that records line numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.yamlerrors import control_character, explain

# libyaml's C parser when present: the pure-Python one needs ~15 s for 10,000 entries.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_FILE_BYTES = 1_000_000
MAX_NODES = 10_000


_STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:map",
}


class YamlError(Exception):
    """A file that cannot be read as a knowledge base file; ``line`` is 1-based or None."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class LineDict(dict[str, Any]):
    """A mapping that remembers the line of itself and of each key."""

    line: int
    key_lines: dict[str, int]


class LineList(list[Any]):
    """A sequence that remembers its line and the line of each item."""

    line: int
    item_lines: list[int]


@dataclass(frozen=True, slots=True)
class _Scalar:
    value: Any


def read_yaml(path: Path) -> Any:
    """Read one YAML file into LineDict/LineList/scalars, or raise YamlError in German."""
    return parse_yaml(read_text(path))


def unreadable_reason(exc: OSError) -> str:
    """Why a file or folder cannot be read, in German for the admins."""
    if isinstance(exc, PermissionError):
        return "keine Leserechte für den Bot"
    if isinstance(exc, IsADirectoryError):
        return "ist ein Ordner"
    return exc.strerror or type(exc).__name__


def read_text(path: Path) -> str:
    """The file's text, bounded in size and decoded as UTF-8, or YamlError in German."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise YamlError(f"Datei nicht lesbar ({unreadable_reason(exc)})") from exc
    if size > MAX_FILE_BYTES:
        raise YamlError(
            f"Datei ist zu groß ({size // 1024} KB, höchstens {MAX_FILE_BYTES // 1024} KB erlaubt)"
        )
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise YamlError(f"Datei nicht lesbar ({unreadable_reason(exc)})") from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(raw, exc) from exc


def _not_utf8(raw: bytes, exc: UnicodeDecodeError) -> YamlError:
    """Name the encoding the file was saved in and the first line that shows it."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return YamlError(
            f"Datei ist als UTF-16 („Unicode“) gespeichert, nicht als UTF-8. Lösung: {SAVE_AS_UTF8}"
        )
    line = raw.count(b"\n", 0, exc.start) + 1
    start = raw.rfind(b"\n", 0, exc.start) + 1
    end = raw.find(b"\n", exc.start)
    shown = raw[start : end if end >= 0 else len(raw)].decode("cp1252", "replace").strip()
    return YamlError(
        f"Datei ist nicht UTF-8-kodiert (vermutlich „ANSI“/Windows-1252), zu sehen an"
        f" »{shown[:60]}«. Lösung: {SAVE_AS_UTF8}",
        line,
    )


SAVE_AS_UTF8 = "im Editor „Speichern unter“ wählen und unten bei „Codierung“ „UTF-8“ einstellen."


def _cp1252(byte: int) -> str:
    """The character Windows-1252 (or Latin-1 where it has a gap) shows for one byte."""
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)


_TAIL = "".join(re.escape(_cp1252(b)) for b in range(0x80, 0xC0))
# UTF-8 byte sequences read as Windows-1252: "Ã¶" is ö, "â€ž" is „.
_MOJIBAKE = re.compile(
    f"[\u00c2-\u00df][{_TAIL}]|[\u00e0-\u00ef][{_TAIL}]{{2}}|[\u00f0-\u00f4][{_TAIL}]{{3}}"
)


@dataclass(frozen=True, slots=True)
class Mojibake:
    """A word whose umlauts were garbled by a wrong encoding, and what it was meant to be."""

    line: int
    garbled: str
    meant: str


def find_mojibake(text: str) -> list[Mojibake]:
    """Words like "KÃ¶ln": a UTF-8 file once opened as Windows-1252 and saved again.

    They decode without error, so only their shape gives them away; every candidate is
    checked by encoding it back and decoding it as UTF-8.
    """
    found: list[Mojibake] = []
    for number, line in enumerate(text.split("\n"), start=1):
        words: dict[str, str] = {}
        for match in _MOJIBAKE.finditer(line):
            if _meant(match.group()) is None:
                continue
            start, end = match.start(), match.end()
            while start > 0 and not line[start - 1].isspace() and line[start - 1] not in "\"':":
                start -= 1
            while end < len(line) and not line[end].isspace() and line[end] not in "\"',":
                end += 1
            word = line[start:end]
            words[word] = _MOJIBAKE.sub(lambda m: _meant(m.group()) or m.group(), word)
        found.extend(Mojibake(number, garbled, meant) for garbled, meant in words.items())
    return found


def _meant(garbled: str) -> str | None:
    try:
        raw = bytes(ord(c) if ord(c) < 256 else c.encode("cp1252")[0] for c in garbled)
        return raw.decode("utf-8")
    except (UnicodeError, ValueError):
        return None


def parse_yaml(text: str) -> Any:
    """Parse YAML text; see module docstring for what is rejected."""
    control = control_character(text)
    if control is not None:
        raise YamlError(control.message, control.line)
    _scan_events(text)
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, text) from exc
    if node is None:
        return None
    return _convert(node, yaml.SafeLoader(""))


def _scan_events(text: str) -> None:
    count = 0
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            line = event.start_mark.line + 1 if event.start_mark else None
            if isinstance(event, yaml.AliasEvent):
                raise YamlError(f"Aliase (*name) sind nicht erlaubt. {_quote_hint('*')}", line)
            if isinstance(event, yaml.NodeEvent):
                if event.anchor is not None:
                    raise YamlError(f"Anker (&name) sind nicht erlaubt. {_quote_hint('&')}", line)
                tag = getattr(event, "tag", None)
                if tag is not None and tag not in ("!", *_STANDARD_TAGS):
                    hint = f". {_quote_hint('!')}" if tag.startswith("!") else ""
                    raise YamlError(f"YAML-Tag '{tag}' ist nicht erlaubt{hint}", line)
                count += 1
                if count > MAX_NODES:
                    raise YamlError(f"zu viele Elemente (höchstens {MAX_NODES})", line)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, text) from exc


def _syntax_error(exc: yaml.YAMLError, text: str) -> YamlError:
    explained = explain(exc, text, _LOADER)
    return YamlError(explained.message, explained.line)


def _quote_hint(char: str) -> str:
    return (
        f"Lösung: soll der Text mit »{char}« beginnen, den ganzen Wert in Anführungszeichen setzen."
    )


def _duplicate_key(key: str, first: int) -> str:
    hint = (
        " Lösung: beginnt hier ein neuer Eintrag, fehlt vor 'id' der Strich: »- id: …«;"
        " sonst eine der beiden Zeilen löschen."
        if key == "id"
        else " Lösung: eine der beiden Zeilen löschen."
    )
    return f"Feld '{key}' steht zweimal im selben Abschnitt (zuerst in Zeile {first}).{hint}"


def _convert(node: yaml.Node, loader: yaml.SafeLoader) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result = LineDict()
        result.line = line
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = _convert(key_node, loader)
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise YamlError(
                    f"Feldname muss Text sein, nicht »{key}«. Lösung: einen Feldnamen aus"
                    " Buchstaben verwenden (z. B. »titel:«).",
                    key_line,
                )
            if key in result:
                raise YamlError(_duplicate_key(key, result.key_lines[key]), key_line)
            result[key] = _convert(value_node, loader)
            result.key_lines[key] = key_line
        return result
    if isinstance(node, yaml.SequenceNode):
        items = LineList()
        items.line = line
        items.item_lines = []
        for item in node.value:
            items.append(_convert(item, loader))
            items.item_lines.append(item.start_mark.line + 1)
        return items
    try:
        return loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError) as exc:  # e.g. the date 2021-02-30
        raise YamlError(
            f"Wert »{node.value}« ist nicht lesbar (sieht aus wie ein Datum oder eine Zahl, ist"
            " aber keins). Lösung: den Wert in Anführungszeichen setzen.",
            line,
        ) from exc
