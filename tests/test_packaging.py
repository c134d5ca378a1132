"""A non-editable install works on its own: every room is in the wheel, and so is knowledge/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from bot.config import PROJECT_ROOT

SOURCES = ("pyproject.toml", "README.md", "bot", "handlers", "knowledge")


def test_a_wheel_install_answers_from_its_bundled_knowledge_in_another_directory(
    tmp_path: Path,
) -> None:
    source = tmp_path / "source"  # a clean copy: pip builds in the tree it is given
    for name in SOURCES:
        path = PROJECT_ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(path, source / name)
    target = tmp_path / "site"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TELEGRAM_", "PYTHON"))}
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    subprocess.run(
        [*pip, "--target", target, source],
        check=True,
        env=env,
        cwd=tmp_path,
        timeout=300,  # a safety bound against a hanging index, never a measurement
    )
    shutil.rmtree(source)  # nothing may be read from the copy the wheel was built from
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run_env = {**env, "PYTHONPATH": str(target), "PYTHONIOENCODING": "utf-8"}

    where = subprocess.run(
        [sys.executable, "-c", "import bot, bot.config as c; print(bot.__file__, c.DEFAULT_KB)"],
        capture_output=True, text=True, check=True, cwd=elsewhere, env=run_env, timeout=60,
    )  # fmt: skip
    module, default_kb = where.stdout.split()
    assert Path(module).is_relative_to(target) and Path(default_kb).is_relative_to(target)
    assert (Path(default_kb).parent / "herne" / "massnahmen.yaml").is_file()

    answer = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "Elternzeit"],
        capture_output=True, text=True, cwd=elsewhere, env=run_env, timeout=60,
    )  # fmt: skip
    assert answer.returncode == 0, answer.stderr
    assert "Elternzeit" in answer.stdout.splitlines()[0]

    rooms = "bot.chat, bot.knowledge, bot.log, bot.report, bot.runtime, bot.search, handlers"
    imported = subprocess.run(
        [sys.executable, "-c", f"import {rooms}"],
        capture_output=True, text=True, cwd=elsewhere, env=run_env, timeout=60,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
