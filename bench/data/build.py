"""Turn the blind question sets (raw/, labelled by measure number or offer key by writers who saw
only the seed documents) into entry-id labels and one fixed train/dev/test split.

Run once; the split is stored in the output files and never redrawn, so nothing is ever fitted on
the test split. The label mapping below is derived from the knowledge base's structure (measure
refs, services' `massnahmen`, `zustaendig`) and the writers' offer keys, never from questions.
"""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent
ROOT = HERE.parents[1]

# 4.2.1 and 4.2.2 bundle named sub-offers; a question about one of them is answered by that
# service (and the measure), not by its siblings.
KOELN_SUBOFFERS = {
    "plötzlich pflege": "beratung-ploetzlich-pflege",
    "elternzeit – wie geht’s?": "beratung-elternzeit",
    "eltern geworden – was melde ich wo?": "beratung-eltern-geworden",
    "väternetzwerk": "vaeternetzwerk",
    "mittags-stammtisch": "vaeternetzwerk",
    "beurlaubten treffen": "beurlaubten-treffen",
}
BUNDLES = {"4.2.1", "4.2.2"}

HERNE_KEYS = {
    "mentoring": ["mentoring-frauen"],
    "coaching-fuehrung": ["coaching-fuehrungskraefte"],
    "qualifizierung-fuehrung": ["qualifizierung-fuehrungsebene"],
    "workshop-azubis": ["workshop-azubis"],
    "fortbildung-beratung": ["fortbildung-beratung"],
    "flexible-arbeitszeit": ["flexible-arbeitszeit"],
    "kinderbetreuung": ["kinderbetreuung"],
    "eltern-kind-tag": ["eltern-kind-tag"],
    "haeusliche-gewalt": ["haeusliche-gewalt"],
    "trennung": ["beratung-trennung"],
    "alleinerziehende": ["beratung-alleinerziehende"],
    "migrantinnen": ["beratung-migrantinnen"],
    "wiedereinstieg": ["beratung-wiedereinstieg"],
    "frau-und-beruf-web": ["frau-und-beruf-website", "frau-und-beruf"],
    "beratung-buerger": [
        "beratung-alleinerziehende",
        "beratung-migrantinnen",
        "beratung-wiedereinstieg",
    ],
    "gleichstellungsstelle": ["gleichstellungsstelle", "buero-vielfalt"],
    "gleichstellungsplan": ["frauen-in-fuehrung"],
    "erwerbssituation-frauen": ["frauen-in-fuehrung", "frau-und-beruf-website"],
}


def _kb(org: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for name in ("massnahmen", "beratungsangebote"):
        data = yaml.safe_load((ROOT / "knowledge" / org / f"{name}.yaml").read_text())
        entries += data[name]
    return entries


def _with_contacts(ids: list[str], entries: dict[str, dict[str, Any]]) -> list[str]:
    out = list(ids)
    for entry_id in ids:
        for contact in entries.get(entry_id, {}).get("zustaendig", []):
            if contact not in out:
                out.append(contact)
    return out


def koeln_labels(item: dict[str, Any], entries: list[dict[str, Any]]) -> list[str]:
    by_id = {e["id"]: e for e in entries}
    sub = KOELN_SUBOFFERS.get(str(item.get("angebot", "")).lower().replace("'", "’"))
    ids: list[str] = []
    for ref in item["refs"]:
        for e in entries:
            if e.get("ref") == ref:
                ids.append(e["id"])
            elif ref in e.get("massnahmen", []) and (ref not in BUNDLES or sub in (None, e["id"])):
                if ref == "4.2.1" and sub is None:
                    continue  # the office itself, not one of its themes
                ids.append(e["id"])
        if ref == "4.2.1":
            ids.append("beratungsstelle")
    ids = list(dict.fromkeys(ids))
    return _with_contacts(ids, by_id) if item.get("fragt_zustaendig") else ids


def herne_labels(item: dict[str, Any], entries: list[dict[str, Any]]) -> list[str]:
    by_id = {e["id"]: e for e in entries}
    ids = list(dict.fromkeys(i for key in item["offers"] for i in HERNE_KEYS[key]))
    return _with_contacts(ids, by_id) if item.get("fragt_zustaendig") else ids


def split(items: list[dict[str, Any]], seed: int, shares: tuple[tuple[str, float], ...]) -> None:
    strata: dict[tuple[str, bool], list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        strata[(item["stil"], bool(item["erwartet"]))].append(item)
    rng = random.Random(seed)
    for group in strata.values():
        rng.shuffle(group)
        start = 0.0
        for name, share in shares:
            end = start + share * len(group)
            for item in group[round(start) : round(end)]:
                item["split"] = name
            start = end


# Each round of writers is split on its own, so a later round never redraws an earlier split:
# round 1 (2026-12-01, first session) and round 2 (fresh writers, later the same day). Round 3
# (fresh writers, 2026-12-02, after rounds 1 and 2's test splits had been looked at several
# times) is test only: a clean measurement of the decision chosen on rounds 1 and 2.
TEST_ONLY = (("test", 1.0),)
# Rounds 1 and 2 were first drawn train 40 % / dev 20 % / test 40 %; that test joined their
# dev when round 3 became the test (the same seeds draw the same train): it had been looked at
# often, but, unlike train and dev, had never shaped a word list, so it is the least biased
# set for choosing thresholds.
CHOOSING = (("train", 0.4), ("dev", 0.6))
# Round 4 (fresh writers, 2026-12-02, evening) exists to give the fitted decision more to learn
# from: most of it is train. Round 5 (written at the same time, from the same brief) is the new
# test, looked at once; round 3 stays test as well.
FITTING = (("train", 0.7), ("dev", 0.3))
ROUNDS: dict[str, tuple[tuple[list[str], int, tuple[tuple[str, float], ...]], ...]] = {
    "koeln": (
        (["koeln_a.yaml", "koeln_b.yaml"], 20261201, CHOOSING),
        (["koeln_c.yaml", "koeln_d.yaml"], 20261202, CHOOSING),
        (["koeln_e.yaml", "koeln_f.yaml"], 20261203, TEST_ONLY),
        (["koeln_g.yaml", "koeln_h.yaml"], 20261204, FITTING),
        (["koeln_i.yaml", "koeln_j.yaml"], 20261205, TEST_ONLY),
    ),
    "herne": (
        (["herne.yaml"], 20261201, CHOOSING),
        (["herne_b.yaml"], 20261202, CHOOSING),
        (["herne_c.yaml"], 20261203, TEST_ONLY),
        (["herne_d.yaml"], 20261204, FITTING),
        (["herne_e.yaml"], 20261205, TEST_ONLY),
    ),
}


def main() -> None:
    labels = {"koeln": koeln_labels, "herne": herne_labels}
    for org, rounds in ROUNDS.items():
        entries = _kb(org)
        items: list[dict[str, Any]] = []
        for number, (files, seed, shares) in enumerate(rounds, start=1):
            batch = []
            for file in files:
                for raw in yaml.safe_load((HERE / "raw" / file).read_text()):
                    erwartet = labels[org](raw, entries)
                    batch.append({"frage": raw["frage"], "erwartet": erwartet, "stil": raw["stil"]})
            split(batch, seed=seed, shares=shares)
            for item in batch:
                item["runde"] = number
            items += batch
        header = (
            f"# Blind set {org}: written from the seed documents only (see bench/data/build.py).\n"
            "# split: train/dev for fitting and choosing; test is quoted, never fitted on.\n"
            "# runde: 1 = first writers, 2-5 = fresh writers; rounds 3 and 5 are test, rounds 1,\n"
            "# 2 and 4 are train and dev (1 and 2's former test split joined dev).\n"
        )
        text = yaml.safe_dump(items, allow_unicode=True, sort_keys=False, width=1000)
        (HERE / f"blind_{org}.yaml").write_text(header + text)
        print(org, len(items))


if __name__ == "__main__":
    main()
