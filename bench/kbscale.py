"""Knowledge base size vs. load/reload time and search latency, through real YAML files.

    python bench/kbscale.py                 # 100, 1,000 and 10,000 entries

Each size is written as YAML into a temporary folder (the bundled Köln entries, recombined
with a seeded generator), then loaded exactly as a hot reload does: read, validate, index.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.search.library import Library, build_snapshot  # noqa: E402

SOURCE = ROOT / "knowledge" / "koeln"


def write_kb(folder: Path, size: int) -> None:
    """Copy the Köln base and add generated measures until ``size`` entries exist."""
    rng = random.Random(size)
    for path in SOURCE.glob("*.yaml"):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    measures = yaml.safe_load((SOURCE / "massnahmen.yaml").read_text(encoding="utf-8"))
    base = measures["massnahmen"]
    vocab = sorted({w for m in base for w in " ".join(m["beispielfragen"]).split() if len(w) > 3})
    existing = sum(
        len(v)
        for p in SOURCE.glob("*.yaml")
        for k, v in (yaml.safe_load(p.read_text(encoding="utf-8")) or {}).items()
        if isinstance(v, list)
    ) - len(yaml.safe_load((SOURCE / "themen.yaml").read_text(encoding="utf-8"))["themen"])
    extra = []
    for i in range(max(0, size - existing)):
        template = base[i % len(base)]
        words = rng.sample(vocab, 14)
        extra.append(
            {
                "id": f"gen-{i}",
                "titel": " ".join(words[:3]),
                "thema": template["thema"],
                "antwort": " ".join(rng.sample(vocab, 30)),
                "zielgruppe": template["zielgruppe"],
                "status": template["status"],
                "zustaendig": list(template["zustaendig"]),
                "stichworte": words[3:9],
                "beispielfragen": [" ".join(words[5:11]) + "?", " ".join(rng.sample(vocab, 7))],
            }
        )
    # A file may hold at most 10,000 YAML nodes, so generated entries go into several files.
    for n, start in enumerate(range(0, len(extra), 250)):
        (folder / f"generiert-{n:03}.yaml").write_text(
            yaml.safe_dump(
                {"massnahmen": extra[start : start + 250]}, allow_unicode=True, sort_keys=False
            ),
            encoding="utf-8",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    args = parser.parse_args()
    questions = [
        q["frage"]
        for q in yaml.safe_load(
            (ROOT / "tests" / "data" / "questions_koeln.yaml").read_text(encoding="utf-8")
        )
    ]
    print(
        f"{'Einträge':>9} {'YAML':>8} {'Laden+Prüfen+Index':>19} {'Neuladen':>9} "
        f"{'Suche p50':>10} {'p99':>8}"
    )
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write_kb(folder, size)
            kb_bytes = sum(p.stat().st_size for p in folder.glob("*.yaml"))
            start = time.perf_counter()
            library, problems = Library.open(folder)
            load = time.perf_counter() - start
            assert library is not None, [str(p) for p in problems if p.severity == "fehler"]
            start = time.perf_counter()
            build_snapshot(folder)
            reload = time.perf_counter() - start
            index = library.current.index
            for q in questions[:20]:
                index.search(q, pad=False)
            timings = []
            for q in questions:
                t = time.perf_counter()
                index.search(q, pad=False)
                timings.append((time.perf_counter() - t) * 1000)
            timings.sort()
            entries = len(library.current.kb.entries)
            print(
                f"{entries:>9} {kb_bytes / 1e6:>6.1f}MB {load * 1000:>17.0f}ms "
                f"{reload * 1000:>7.0f}ms {statistics.median(timings):>8.2f}ms "
                f"{timings[int(len(timings) * 0.99)]:>6.2f}ms"
            )


if __name__ == "__main__":
    main()
