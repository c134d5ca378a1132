"""The layout of bot/ and handlers/, checked on the syntax trees (nothing is imported).

Six rooms, and every import between them points down the order
runtime → handlers → chat → report, search → log, knowledge, config.
Only bot/runtime/ and handlers/ talk to Telegram.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

from bot.config import PROJECT_ROOT

ROOMS = ("knowledge", "search", "chat", "log", "report", "runtime")
TOP_LEVEL = {"__init__.py", "__main__.py", "cli.py", "config.py", *ROOMS}
# Higher imports lower; rooms on one level do not import each other.
LEVEL = {
    "runtime": 5,
    "handlers": 4,
    "chat": 3,
    "report": 2,
    "search": 2,
    "log": 1,
    "knowledge": 1,
    "config": 1,
}
FREE = {"cli", "__main__", "__init__"}  # bot/cli.py and bot/__main__.py may import anything
TELEGRAM_ROOMS = {"runtime", "handlers"}
PTB_PRIVATE_SHIM = Path("bot/runtime/ptbcompat.py")


def sources() -> Iterator[Path]:
    for folder in ("bot", "handlers"):
        yield from sorted((PROJECT_ROOT / folder).rglob("*.py"))


def room_of(path: Path) -> str:
    """``bot/chat/x.py`` -> chat, ``handlers/x.py`` -> handlers, ``bot/cli.py`` -> cli."""
    parts = path.relative_to(PROJECT_ROOT).parts
    if parts[0] == "handlers":
        return "handlers"
    return parts[1] if len(parts) > 2 else Path(parts[1]).stem


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted module) for every import, function-level ones included."""
    package = ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, base
            for alias in node.names:  # ``from bot import report`` imports the room bot.report
                yield node.lineno, f"{base}.{alias.name}"


def target_room(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "handlers":
        return "handlers"
    if parts[0] != "bot" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in LEVEL else None


def where(path: Path, line: int) -> str:
    return f"{path.relative_to(PROJECT_ROOT)}:{line}"


def test_bot_holds_only_the_entry_points_config_and_six_rooms() -> None:
    found = {p.name for p in (PROJECT_ROOT / "bot").iterdir() if p.name != "__pycache__"}
    assert found == TOP_LEVEL
    for room in ROOMS:
        assert (PROJECT_ROOT / "bot" / room / "__init__.py").is_file(), room


def test_only_runtime_and_handlers_import_telegram() -> None:
    offenders = [
        f"{where(path, line)} imports {module}"
        for path in sources()
        if room_of(path) not in TELEGRAM_ROOMS
        for line, module in imported_modules(path)
        if module.split(".")[0] == "telegram"
    ]
    assert offenders == []


def test_private_ptb_modules_are_used_in_one_shim_only() -> None:
    offenders = [
        f"{where(path, line)} imports {module}"
        for path in sources()
        if path.relative_to(PROJECT_ROOT) != PTB_PRIVATE_SHIM
        for line, module in imported_modules(path)
        if module.startswith("telegram._")
    ]
    assert offenders == []


def test_imports_between_rooms_point_down() -> None:
    upward = []
    for path in sources():
        source = room_of(path)
        if source in FREE:
            continue
        for line, module in imported_modules(path):
            target = target_room(module)
            if target is None or target == source:
                continue
            if LEVEL[target] >= LEVEL[source]:
                upward.append(f"{where(path, line)}: {source} imports {module}")
    assert sorted(set(upward)) == []


def test_room_facades_only_re_export() -> None:
    """Each ``__init__.py``: a docstring, imports from its own room, and ``__all__``."""
    for room in ROOMS:
        path = PROJECT_ROOT / "bot" / room / "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported: set[str] = set()
        exported: list[str] = []
        for node in tree.body:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue  # the docstring
            if isinstance(node, ast.ImportFrom):
                assert (node.module or "").startswith(f"bot.{room}"), where(path, node.lineno)
                imported |= {a.asname or a.name for a in node.names}
                continue
            assert isinstance(node, ast.Assign), f"{where(path, node.lineno)}: logic in a facade"
            assert [t.id for t in node.targets if isinstance(t, ast.Name)] == ["__all__"]
            exported = list(ast.literal_eval(node.value))
        assert sorted(exported) == sorted(imported), room


def test_facades_of_the_lower_rooms_load_neither_telegram_nor_matplotlib() -> None:
    """``python -m bot ask`` and the reports stay quick to start."""
    rooms = ", ".join(f"bot.{room}" for room in ROOMS if room != "runtime")
    code = (
        f"import sys, {rooms}\n"
        "print(sorted(m for m in ('telegram', 'matplotlib') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True, text=True, check=True, cwd=PROJECT_ROOT, timeout=60,
    )  # fmt: skip
    assert result.stdout.strip() == "[]"


def test_the_wheel_lists_every_package() -> None:
    """setuptools is given an explicit list; a new room missing from it would not be shipped."""
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    packages = {
        ".".join(init.parent.relative_to(PROJECT_ROOT).parts)
        for folder in ("bot", "handlers")
        for init in (PROJECT_ROOT / folder).rglob("__init__.py")
    }
    assert listed == packages | {"bot.bundled"}
    assert config["tool"]["setuptools"]["package-dir"] == {"bot.bundled": "knowledge"}
