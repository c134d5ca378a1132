"""PyYAML's syntax errors explained in German, on the line where the admin has to fix them.

The parser reports where it gave up, in English and often a line late: a missing colon shows up
as "mapping values are not allowed" on the *next* line, an unclosed quote as "did not find
expected key" wherever the next quote happens to be. This module looks at the text around the
error mark and at the events parsed before it to name the real mistake, its line and column,
and a concrete fix ("Lösung: …", code in »…«). None of the parser's English reaches the admin.
Both loaders are covered: libyaml's (``CSafeLoader``) and the pure-Python one word their
errors differently, so the classification keys on what both have in common.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

PREFIX = "YAML-Syntaxfehler: "
GENERIC_FIX = (
    "Einrückung (nur Leerzeichen), Doppelpunkte und Anführungszeichen mit den Zeilen darüber"
    " vergleichen; Texte mit Sonderzeichen in Anführungszeichen setzen."
)

# A field name at the start of a line body: "titel:" followed by a space or the line end.
_KEY = re.compile(r"""(?P<key>[^\s:#'"\[\]{},&*!|>%@`-][^:#]*?)\s*:(?=\s|$)""")
_NAME = r"[A-Za-zÄÖÜäöüß_][\w-]*"
# "titel:Gleitzeit" / 'titel:"Gleitzeit"': a colon glued to the value.
_GLUED = re.compile(rf"""(?P<key>{_NAME}):(?P<value>[\w"'\[{{].*)$""")
# "ref:? 1.1.1": a stray character glued to the colon.
_GLUED_JUNK = re.compile(rf"""(?P<key>{_NAME}):(?P<junk>[^\s\w"'\[{{])\s*(?P<value>.*)$""")
# Characters that cannot begin a line of a knowledge base file (typed by accident).
_STRAY = ",]}:\\@`%|>&*!?"
# "titel Gleitzeit": a name and a value without the colon between them.
_NO_COLON = re.compile(rf"(?P<key>{_NAME})\s+(?P<value>[^\s:].*)$")
# What YAML refuses to read; a byte order mark counts too unless it opens the file.
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff\ufeff]"
)


@dataclass(frozen=True, slots=True)
class Explained:
    """A German explanation: 1-based line (None: the whole file) and the message."""

    line: int | None
    message: str


def explain(exc: yaml.YAMLError, text: str, loader: type[yaml.SafeLoader]) -> Explained:
    """Translate any PyYAML error on ``text`` into a German explanation with line and fix."""
    if isinstance(exc, yaml.reader.ReaderError):
        found = control_character(text)
        if found is not None:
            return found
        return Explained(
            None,
            f"{PREFIX}unzulässiges Zeichen (U+{exc.character:04X}). Lösung: die Stelle löschen"
            " und neu tippen.",
        )
    if not isinstance(exc, yaml.MarkedYAMLError):
        return Explained(None, f"{PREFIX}die Datei ist kein gültiges YAML. Lösung: {GENERIC_FIX}")
    return _Explainer(exc, text, loader).explain()


def control_character(text: str) -> Explained | None:
    """The first character YAML refuses (invisible, usually pasted from another program)."""
    for match in _CONTROL.finditer(text):
        if match.start() == 0 and match.group() == "\ufeff":
            continue  # "UTF-8 mit BOM": harmless at the very start
        line_start = text.rfind("\n", 0, match.start()) + 1
        return Explained(
            text.count("\n", 0, match.start()) + 1,
            f"{PREFIX}unsichtbares Zeichen (U+{ord(match.group()):04X}) in Spalte"
            f" {match.start() - line_start + 1}, meist aus einem anderen Programm"
            " hineinkopiert. Lösung: die Stelle löschen und neu tippen.",
        )
    return None


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quoted(value: str) -> str:
    """The value in double quotes; inner double quotes become typographic („…“)."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    parts = value.split('"')
    inner = "".join(part + ("„" if i % 2 == 0 else "“") for i, part in enumerate(parts[:-1]))
    return f'"{inner + parts[-1]}"'


def _start(event: yaml.Event) -> tuple[int, int]:
    """1-based line and column where an event starts."""
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark else (0, 0)


def _end(event: yaml.Event) -> tuple[int, int]:
    """1-based line and column just after an event."""
    mark = event.end_mark
    return (mark.line + 1, mark.column + 1) if mark else (0, 0)


@dataclass(frozen=True, slots=True)
class _Line:
    """One source line: indentation, list dashes ('- ') and the body after them."""

    number: int  # 1-based
    text: str

    @property
    def indent(self) -> int:
        return len(self.text) - len(self.text.lstrip(" "))

    @property
    def body_column(self) -> int:
        """0-based column where the content after indentation and '- ' markers starts."""
        col = self.indent
        while self.text.startswith("-", col) and self.text[col + 1 : col + 2] in (" ", ""):
            col += 1
            while self.text.startswith(" ", col):
                col += 1
        return col

    @property
    def body(self) -> str:
        return self.text[self.body_column :].rstrip()

    @property
    def is_item(self) -> bool:
        return self.body_column > self.indent

    @property
    def key(self) -> str | None:
        match = _KEY.match(self.body)
        return match["key"] if match else None

    @property
    def blank(self) -> bool:
        stripped = self.text.strip()
        return not stripped or stripped.startswith("#")


class _Explainer:
    """What one error needs: the parser's marks, the source lines, the events before it."""

    def __init__(self, exc: yaml.MarkedYAMLError, text: str, loader: type[yaml.SafeLoader]) -> None:
        self.exc = exc
        self.problem = (exc.problem or "").lower()
        self.context = (exc.context or "").lower()
        self.text = text
        self.loader = loader
        self.lines = [_Line(i + 1, t) for i, t in enumerate(text.split("\n"))]
        mark = exc.problem_mark or exc.context_mark
        self.line = mark.line + 1 if mark else None
        self.column = mark.column + 1 if mark else None
        context = exc.context_mark
        self.context_line = context.line + 1 if context else None
        self.context_column = context.column + 1 if context else None

    # --- helpers -----------------------------------------------------------------------------

    def source(self, number: int | None) -> _Line:
        if number is None or not 1 <= number <= len(self.lines):
            return _Line(number or 0, "")
        return self.lines[number - 1]

    def above(self, number: int) -> _Line | None:
        """The nearest line above that holds content (not blank, not only a comment)."""
        for candidate in reversed(self.lines[: max(number - 1, 0)]):
            if not candidate.blank:
                return candidate
        return None

    def char_at(self, number: int | None, column: int | None) -> str:
        text = self.source(number).text
        index = (column or 1) - 1
        return text[index] if 0 <= index < len(text) else ""

    def events(self) -> list[yaml.Event]:
        """Events parsed before the error (parsing again is cheap, and only on errors)."""
        found: list[yaml.Event] = []
        try:
            for event in yaml.parse(self.text, Loader=self.loader):
                found.append(event)
        except yaml.YAMLError:
            pass
        return found

    @staticmethod
    def at(line: int | None, what: str, fix: str, column: int | None = None) -> Explained:
        where = f" (Spalte {column})" if column else ""
        return Explained(line, f"{PREFIX}{what}{where}. Lösung: {fix}")

    # --- classification ----------------------------------------------------------------------

    def explain(self) -> Explained:
        """Pick the explanation from the parser's wording; both loaders lead to the same."""
        problem, context = self.problem, self.context
        for found in (self.tab(), self.stray(self.source(self.line))):
            if found is not None:
                return found
        if "single document" in context:
            return self.at(
                self.line,
                "die Datei enthält ein zweites Dokument (Zeile mit »---«)",
                "die Zeile »---« löschen; jede Datei ist genau ein Dokument.",
            )
        if "quoted scalar" in context and "end of stream" in problem:
            return self.unclosed_quote(self.context_line, self.context_column)
        if "quoted scalar" in context and ("escape" in problem or "hex" in problem):
            return self.at(
                self.line,
                "ein »\\« in doppelten Anführungszeichen leitet ein Sonderzeichen ein",
                "den Text in einfache Anführungszeichen setzen (»'C:\\Ordner'«) oder »\\\\«"
                " schreiben.",
                self.column,
            )
        if "flow" in context or "',' or" in problem:
            return self.unclosed_bracket()
        if "alias" in context or "anchor" in context:
            return self.reserved_start(self.context_line, self.context_column)
        if "block scalar" in context:
            return self.block_scalar()
        if "cannot start any token" in problem or "mapping keys are not allowed" in problem:
            return self.reserved_start(self.line, self.column)
        if "mapping values are not allowed" in problem:
            return self.stray_colon()
        if "could not find expected ':'" in problem:
            return self.missing_colon(self.source(self.context_line or self.line))
        if any(s in problem for s in ("expected key", "indicator", "block end")):
            return self.unexpected_content()
        if "end of stream" in problem or "node content" in problem:
            return self.unclosed_bracket()
        return self.at(self.line, "diese Zeile ist kein gültiges YAML", GENERIC_FIX, self.column)

    def tab(self) -> Explained | None:
        """A tab where the parser stopped or in the indentation of the line it was reading."""
        for number in (self.line, self.context_line):
            line = self.source(number)
            leading = line.text[: len(line.text) - len(line.text.lstrip(" \t"))]
            at_mark = number == self.line and self.char_at(self.line, self.column) == "\t"
            if "\t" in leading or at_mark:
                return self.at(
                    line.number,
                    "Tabulatorzeichen – YAML erlaubt zum Einrücken und Trennen nur Leerzeichen",
                    "den Tabulator löschen und mit Leerzeichen einrücken, so weit wie die"
                    " Zeilen, zu denen die Zeile gehört.",
                    line.text.index("\t") + 1,
                )
        return None

    def stray(self, line: _Line) -> Explained | None:
        """A character typed by accident before a field name: '}titel: …', ',  thema: …'."""
        stripped = line.text.lstrip(" ")
        if not stripped or stripped[0] not in _STRAY:
            return None
        rest = stripped[1:].lstrip(" ")
        if not re.match(rf"(- +)?{_NAME}\s*:(\s|$)", rest):
            return None
        return self.at(
            line.number,
            f"überzähliges Zeichen »{stripped[0]}« vor dem Feldnamen",
            f"das Zeichen löschen: »{' ' * line.indent}{rest.rstrip()}«.",
            line.indent + 1,
        )

    def unclosed_quote(self, number: int | None, column: int | None) -> Explained:
        quote = self.char_at(number, column) or '"'
        return self.at(
            number,
            f"das Anführungszeichen »{quote}« wird nicht geschlossen, darum liest YAML alles bis"
            f" zum nächsten »{quote}« oder bis zum Dateiende als einen Text",
            f"am Ende des Textes in dieser Zeile das schließende »{quote}« ergänzen.",
            column,
        )

    def unclosed_bracket(self) -> Explained:
        stack: list[yaml.CollectionStartEvent] = []
        for event in self.events():
            if isinstance(event, yaml.CollectionStartEvent) and event.flow_style:
                stack.append(event)
            elif isinstance(event, yaml.CollectionEndEvent) and stack:
                stack.pop()
        if not stack:
            return self.at(self.line, "hier fehlt ein Wert", GENERIC_FIX, self.column)
        line, column = _start(stack[-1])
        sequence = isinstance(stack[-1], yaml.SequenceStartEvent)
        opening, closing = ("[", "]") if sequence else ("{", "}")
        return self.at(
            line,
            f"die Klammer »{opening}« wird nicht mit »{closing}« geschlossen",
            f"»{closing}« am Ende der Liste ergänzen, z. B. »zustaendig: [amt-personal]«; soll"
            f" der Text mit »{opening}« beginnen, den ganzen Wert in Anführungszeichen setzen.",
            column,
        )

    def reserved_start(self, number: int | None, column: int | None) -> Explained:
        """A value that begins with a character YAML reserves (@ ` % * & ? [ {)."""
        line = self.source(number)
        index = (column or 1) - 1
        char = line.text[index : index + 1]
        value_start = re.match(r"\s*(- +)*([^:]+:\s+)?", line.text)
        if char.isspace() or (value_start and value_start.end() != index):
            return self.at(
                line.number,
                f"überzähliges Zeichen »{char.strip() or ' '}« an dieser Stelle",
                "das Zeichen löschen; soll es zum Text gehören, den ganzen Wert in"
                " Anführungszeichen setzen.",
                column,
            )
        meaning = {
            "*": "YAML liest das als Verweis (Alias)",
            "&": "YAML liest das als Anker",
            "?": "YAML liest das als zusammengesetzten Feldnamen",
            "%": "YAML liest das als Steueranweisung",
            "[": "YAML liest das als Liste",
            "{": "YAML liest das als Abschnitt",
        }.get(char, "YAML hält das Zeichen für besondere Zwecke frei")
        fix = "den ganzen Wert in Anführungszeichen setzen"
        value = line.text[index:].strip()
        if line.key is not None and value:
            fix += f": »{line.key}: {quoted(value)}«"
        return self.at(
            line.number,
            f"ein Wert darf nicht mit »{char}« beginnen, {meaning}",
            fix + ".",
            column,
        )

    def block_scalar(self) -> Explained:
        line = self.source(self.context_line)
        value = line.text[(self.context_column or 1) - 1 :].strip()
        return self.at(
            line.number,
            "»|« oder »>« am Anfang eines Werts kündigt einen mehrzeiligen Text an, danach darf"
            " in derselben Zeile nichts stehen",
            f"den Wert in Anführungszeichen setzen: »{line.key or 'feld'}: {quoted(value)}«.",
            self.context_column,
        )

    def stray_colon(self) -> Explained:
        """'mapping values are not allowed': a colon where no new field may start."""
        line = self.source(self.line)
        column = self.column or 1
        key = line.key
        if key is not None and line.body_column + len(key) < column - 1:
            # The colon sits inside the value of a field that starts on this line.
            value = line.text[line.text.index(":", line.body_column + len(key)) + 1 :].strip()
            merged = re.search(rf"\s{{2,}}({_NAME})$", line.text[: column - 1])
            if merged:
                return self.at(
                    line.number,
                    f"zwei Felder in einer Zeile: '{merged[1]}' beginnt mitten in der Zeile",
                    f"vor '{merged[1]}' einen Zeilenumbruch einfügen und '{merged[1]}' genau"
                    f" unter '{key}' einrücken.",
                    merged.start(1) + 1,
                )
            return self.at(
                line.number,
                f"Doppelpunkt im Wert von '{key}' – ohne Anführungszeichen hält YAML den Text"
                " davor für einen Feldnamen",
                f"den ganzen Wert in Anführungszeichen setzen: »{key}: {quoted(value)}«.",
                column,
            )
        # The colon is this line's own: the line continues a value begun above, so the fault
        # is on the line above (no colon, no space) or in this line's indentation.
        above = self.above(line.number)
        for candidate in (line, above):
            if candidate is not None:
                found = self.dash_without_space(candidate)
                if found is not None:
                    return found
        if above is None:
            return self.at(line.number, "Doppelpunkt an unerwarteter Stelle", GENERIC_FIX, column)
        found = self.glued_or_missing_colon(above)
        if found is not None:
            return found
        return self.too_deep(line, above)

    def dash_without_space(self, line: _Line) -> Explained | None:
        stripped = line.text.lstrip(" ")
        if not re.match(rf"-{_NAME}:", stripped):
            return None
        return self.at(
            line.number,
            "nach dem Listenstrich »-« fehlt ein Leerzeichen",
            f"»- {stripped[1:].rstrip()}« schreiben.",
            line.indent + 1,
        )

    def glued_or_missing_colon(self, line: _Line) -> Explained | None:
        body = line.body
        if not body or body[0] in "\"'[{#" or line.key is not None:
            return None
        if _GLUED.match(body) or _NO_COLON.match(body) or re.fullmatch(_NAME, body):
            return self.missing_colon(line)
        return None

    def missing_colon(self, line: _Line) -> Explained:
        """A line that should be a field ('name: wert') but is not one."""
        body = line.body
        glued = _GLUED.match(body)
        if glued:
            return self.at(
                line.number,
                f"nach dem Doppelpunkt von '{glued['key']}' fehlt ein Leerzeichen",
                f"»{glued['key']}: {glued['value']}« schreiben.",
                line.body_column + len(glued["key"]) + 2,
            )
        junk = _GLUED_JUNK.match(body)
        if junk:
            return self.at(
                line.number,
                f"nach dem Doppelpunkt von '{junk['key']}' steht »{junk['junk']}« statt eines"
                " Leerzeichens",
                f"»{junk['key']}: {junk['value']}« schreiben.",
                line.body_column + len(junk["key"]) + 2,
            )
        following = self.source(line.number + 1)
        if (
            re.fullmatch(_NAME, body)
            and not following.blank
            and following.indent < line.indent
            and re.match(rf"{_NAME}\s*:", following.text)
        ):
            joined = body + following.text.strip()
            return self.at(
                line.number,
                f"die Zeile ist umgebrochen: »{body}« und »{following.text.strip()[:20]}…« in"
                f" Zeile {following.number} gehören zusammen",
                f"beide wieder in eine Zeile schreiben: »{_shorten(joined)}«.",
                line.body_column + len(body) + 1,
            )
        above = self.above(line.number)
        if above is not None and above.is_item and above.indent == line.indent:
            return self.at(
                line.number,
                "dieser Listeneintrag hat keinen Strich »- « wie die Einträge darüber",
                f"»- {body}« schreiben.",
                line.indent + 1,
            )
        if body[:1] in ("'", '"'):
            return self.at(
                line.number,
                "hier steht ein Text ohne Feldnamen davor",
                "den Feldnamen davor setzen (»antwort: …«) oder den Text an den Wert darüber"
                " anhängen.",
                line.body_column + 1,
            )
        if not re.match(_NAME, body):
            return self.at(
                line.number,
                f"diese Zeile ist kein Feld (»name: wert«) und beginnt mit »{body[:1]}«",
                GENERIC_FIX,
                line.body_column + 1,
            )
        word = _NO_COLON.match(body)
        key, fix = (word["key"], f"{word['key']}: {word['value']}") if word else (body, body + ":")
        return self.at(
            line.number,
            f"nach '{key}' fehlt der Doppelpunkt",
            f"»{fix}« schreiben.",
            line.body_column + len(key) + 1,
        )

    def too_deep(self, line: _Line, above: _Line) -> Explained:
        key = line.key or line.body.split(":")[0]
        target = above.body_column if above.key is not None else above.indent
        other = above.key or above.body
        return self.at(
            line.number,
            f"'{key}' ist weiter eingerückt als '{other}' in Zeile {above.number}, darum gilt"
            " die Zeile als Fortsetzung des Werts darüber",
            f"'{key}' genau unter '{other}' beginnen lassen (mit {target} Leerzeichen einrücken).",
            line.body_column + 1,
        )

    def unexpected_content(self) -> Explained:
        """'did not find expected key' and relatives: something after a complete value."""
        events = self.events()
        last = events[-1] if events else None
        line = self.source(self.line)
        if isinstance(last, yaml.ScalarEvent) and last.style in ("'", '"'):
            (start, column), end = _start(last), _end(last)[0]
            if start < end and self.spans_fields(start, end):
                return self.unclosed_quote(start, column)
            if end == self.line:
                return self.text_after_quote(last)
        if (
            isinstance(last, yaml.CollectionEndEvent)
            and _end(last)[0] == self.line
            and self.char_at(self.line, _end(last)[1] - 1) in ("]", "}")
        ):
            return self.text_after_bracket(self.flow_start_column(events))
        column = self.column or 1
        if column - 1 in (line.indent, line.body_column):
            above = self.above(line.number)
            if above is not None:
                return self.misaligned(line, above)
        return self.at(
            self.line,
            f"hier erwartet YAML ein neues Feld (»name: wert«), gefunden »{line.text.strip()}«",
            GENERIC_FIX,
            self.column,
        )

    def text_after_bracket(self, start: int | None) -> Explained:
        line = self.source(self.line)
        index = (start or 1) - 1
        opening = line.text[index : index + 1] or "["
        closing = "]" if opening == "[" else "}"
        value = line.text[index:].strip()
        example = f": »{line.key}: {quoted(value)}«" if line.key else ""
        return self.at(
            line.number,
            f"nach der schließenden Klammer »{closing}« steht noch Text",
            f"ist der Wert eine Liste, den Text danach löschen; soll der Text mit »{opening}«"
            f" beginnen, den ganzen Wert in Anführungszeichen setzen{example}.",
            self.column,
        )

    def flow_start_column(self, events: list[yaml.Event]) -> int | None:
        depth = 0
        for event in reversed(events):
            if isinstance(event, yaml.CollectionEndEvent):
                depth += 1
            elif isinstance(event, yaml.CollectionStartEvent):
                depth -= 1
                if depth == 0:
                    return _start(event)[1]
        return None

    def spans_fields(self, first: int, last: int) -> bool:
        """Do the lines after ``first`` up to ``last`` look like fields or list items?"""
        return any(line.key is not None or line.is_item for line in self.lines[first:last])

    def text_after_quote(self, scalar: yaml.ScalarEvent) -> Explained:
        (first, start), (last, end) = _start(scalar), _end(scalar)
        line = self.source(first)
        quote = scalar.style or '"'
        rest = self.source(last).text[end - 1 :]
        value = line.text[start - 1 :].strip() if first == last else ""
        key = line.key or "feld"
        if quote == "'" and "'" in rest:
            what = "Apostroph im Text: in einfachen Anführungszeichen beendet jedes »'« den Text"
            fix = "außen doppelte Anführungszeichen verwenden"
            example = f'{key}: "{value[1:-1]}"' if value else ""
        elif quote in rest:
            what = 'Anführungszeichen im Text: das zweite »"« beendet den Text schon hier'
            fix = "im Text typografische Anführungszeichen „…“ verwenden"
            example = f"{key}: {quoted(value)}" if value else ""
        else:
            what = f"nach dem schließenden »{quote}« steht noch Text"
            fix = "den ganzen Wert in Anführungszeichen setzen"
            example = f"{key}: {quoted(value)}" if value else ""
        fix += f": »{example}«." if example else "."
        return self.at(line.number, what, fix, end)

    def misaligned(self, line: _Line, above: _Line) -> Explained:
        here = line.indent if line.is_item else line.body_column
        there = above.indent if line.is_item or above.key is None else above.body_column
        name = f"»- {line.body}«" if line.is_item else f"'{line.key or line.body}'"
        return self.at(
            line.number,
            f"Einrückung passt nicht: {name} beginnt in Spalte {here + 1}, die Zeile darüber"
            f" (Zeile {above.number}) in Spalte {there + 1}",
            f"Felder eines Eintrags und Einträge einer Liste stehen genau untereinander; {name}"
            f" mit {there} Leerzeichen einrücken (oder so weit wie der Abschnitt, zu dem es"
            " gehört).",
        )
