"""answered / ambiguous / unknown, from features of the ranking, by a calibrated model.

The lexical score alone is a poor judge: a short keyword question scores high and is right, a
long life story scores lower and is just as right. A logistic model over a few features of the
ranking (score, margin to the first genuinely different runner-up, coverage, phrase likeness,
length, unknown words, off-topic and missing subjects, whether the runner-up is the same offer
in another form) estimates the probability that the first entry is right. Its weights are
fitted on the *train* split of the blind sets and the thresholds chosen on *dev*
(``python bench/accuracy.py --fit`` prints both); the test split is never used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from bot.search.config import SearchConfig

Outcome = Literal["answered", "ambiguous", "unknown"]


@dataclass(frozen=True, slots=True)
class Features:
    score: float
    coverage: float
    phrase: float
    terms: int
    unknown: float  # share of the question's weight the knowledge base has never seen
    off_topic: bool
    missing: bool


FEATURE_NAMES = (
    "bias",
    "score",
    "runner_up",
    "margin",
    "coverage",
    "phrase",
    "log_terms",
    "unknown",
    "off_topic",
    "missing",
    "linked_runner_up",
)

DEFAULT_WEIGHTS: tuple[float, ...] = (
    -1.428, 1.551, 0.467, 1.083, 1.768, 1.176, -0.021, -0.78, -1.416, -0.524, 0.803,
)  # fmt: skip
"""Fitted by ``bench/accuracy.py --fit`` on the train split (see docs/performance.md)."""


def vector(features: Features, runner_up: float, linked_runner_up: bool) -> list[float]:
    return [
        1.0,
        features.score,
        runner_up,
        features.score - runner_up,
        features.coverage,
        features.phrase,
        math.log1p(features.terms),
        features.unknown,
        float(features.off_topic),
        float(features.missing),
        float(linked_runner_up),
    ]


def probability(x: list[float], weights: tuple[float, ...]) -> float:
    z = sum(w * v for w, v in zip(weights, x, strict=True))
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def decide(
    features: Features,
    *,
    runner_up: float,
    linked_runner_up: bool,
    rivals: int,
    config: SearchConfig,
) -> tuple[Outcome, float]:
    """The outcome and the estimated probability that the first entry is right."""
    p = probability(
        vector(features, runner_up, linked_runner_up), config.weights or DEFAULT_WEIGHTS
    )
    if p >= config.answer_probability and not rivals:
        # Two genuinely different offers within close_ratio of each other: the employee
        # chooses, however confident the model is that one of them is right.
        return "answered", p
    if p >= config.choice_floor:
        return "ambiguous", p
    return "unknown", p
