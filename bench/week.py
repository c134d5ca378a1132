"""A realistic fortnight of traffic through the real chat, then the team's report on it.

Simulated employees ask the questions below (written for this benchmark; none come from
bench/data/) through ``Conversation`` into a real question log, press 👍/👎, pick under
"Meinten Sie …?" or say "Nichts davon" the way people do, and admins try things in the
terminal chat. Then ``python -m bot report``'s text is built and its first screen printed.

Every question carries what the asker meant: an entry that should answer it, a subject the
knowledge base lacks (``neu:…``), an entry whose answer falls short (``schwach:…``) or an
off-topic subject (``fremd``). ``--sweep`` uses that to count, per probability floor, the
"add as example" proposals and how many point at the entry people meant. On this fortnight
there are none at any floor from 0.1 to 0.7: every group whose nearest entry could take it was
turned down by an asker ("Nichts davon" or 👎 on that very entry) or shares no subject word
with it, so the other rules decide before ``bot.report.advice.SUGGEST_FLOOR`` does.

    python bench/week.py                 # first screen of the report
    python bench/week.py --full          # the whole text report
    python bench/week.py --sweep         # proposals right/wrong per floor
    python bench/week.py --html out.html # the HTML report as the team gets it
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.chat import actions  # noqa: E402
from bot.chat.conversation import Conversation, Reply  # noqa: E402
from bot.log.writer import QuestionLog  # noqa: E402
from bot.report.build import build_report, report_model  # noqa: E402
from bot.search.library import Library  # noqa: E402

# (question, intent). Intent: an entry id that should answer; "neu:<subject>" for a subject the
# knowledge base has no entry for; "schwach:<entry>" for the right entry whose answer falls short;
# "fremd" for an off-topic subject suche.yaml redirects.
ANSWERABLE = [
    ("Wie flexibel darf ich morgens anfangen?", "gleitzeit"),
    ("gibt es noch eine kernzeit", "gleitzeit"),
    ("Kann ich früher Feierabend machen, wenn ich um 6 anfange?", "gleitzeit"),
    ("Gleitzeit Regelung", "gleitzeit"),
    ("Wie beantrage ich Elternzeit?", "beratung-elternzeit"),
    ("Elternzeit Beratung", "beratung-elternzeit"),
    ("wir bekommen ein baby, was muss ich wo melden", "beratung-eltern-geworden"),
    ("Meine Mutter braucht plötzlich Pflege, was tun?", "beratung-ploetzlich-pflege"),
    ("Vater gestürzt, ist jetzt pflegebedürftig – wer hilft mir?", "beratung-ploetzlich-pflege"),
    ("Gibt es Kitaplätze für Kinder von Beschäftigten?", "kita-belegplaetze"),
    ("Betriebskita", "kita-belegplaetze"),
    ("Sabbatical", "arbeitszeitkonten"),
    ("Kann ich Überstunden für eine längere Auszeit ansparen?", "arbeitszeitkonten"),
    ("Telearbeit beantragen", "telearbeit"),
    ("Jobsharing bei der Stadt?", "jobsharing"),
    ("Kann ich mir eine Führungsstelle teilen?", "jobsharing"),
    ("Führen in Teilzeit möglich?", "fuehren-in-teilzeit"),
    ("Kind ist krank und Betreuung fällt aus, kann ich es mit ins Büro nehmen?", "spielekoffer"),
    ("Spielekoffer ausleihen", "spielekoffer"),
    ("Gibt es ein Eltern-Kind-Zimmer?", "buero-sharing"),
    ("Väternetzwerk Stammtisch", "vaeternetzwerk"),
    ("Ich bin in Elternzeit, wie halte ich Kontakt zur Dienststelle?", "drei-phasen-konzept"),
    ("Wiedereinstieg nach der Elternzeit", "drei-phasen-konzept"),
    ("Fortbildung in Teilzeit, geht das?", "fortbildung-zeitbloecke"),
    ("Bekomme ich einen Laptop für mobiles Arbeiten?", "mobile-ausstattung"),
    ("Pflegeberatung vom Familienservice", "familienservice-pflegeberatung"),
    ("Tagesmutter finden über den Familienservice", "familienservice-kinderbetreuung"),
    ("Mein Partner sucht Arbeit in Köln, hilft die Stadt?", "location-service"),
    ("Wo finde ich alles zur Vereinbarkeit im Intranet?", "intranet-portal"),
    ("Wer berät mich zur Vereinbarkeit?", "beratungsstelle"),
]

# Wordings the search is unsure about although an entry fits; some askers say "Nichts davon"
# even when the right entry is offered (people skim).
UNSURE = [
    ("Muss ich um 9 Uhr da sein?", "gleitzeit"),
    ("Wann muss ich spätestens im Büro sein?", "gleitzeit"),
    ("Notfallbetreuung wenn die Tagesmutter krank ist", "familienservice-kinderbetreuung"),
    ("Darf ich am Küchentisch arbeiten statt im Büro?", "handlungsleitfaden-mobiles-arbeiten"),
    ("Mentor für neue Kollegen", "willkommenspaket"),
]

# Subjects without an entry, each asked in several wordings by different people.
GAPS = [
    ("Ferienbetreuung für Schulkinder in den Sommerferien?", "neu:ferienbetreuung"),
    ("Gibt es eine Ferienbetreuung für Kinder von Beschäftigten?", "neu:ferienbetreuung"),
    ("ferienbetreuung stadt köln mitarbeiter", "neu:ferienbetreuung"),
    ("Bietet die Stadt in den Osterferien Betreuung für Schulkinder an?", "neu:ferienbetreuung"),
    ("Ferienprogramm für Kinder der Beschäftigten", "neu:ferienbetreuung"),
    ("Gibt es Betriebssport?", "neu:betriebssport"),
    ("Betriebssport bei der Stadt", "neu:betriebssport"),
    ("Welche Sportangebote gibt es für Beschäftigte?", "neu:betriebssport"),
    ("Zuschuss zum Fitnessstudio?", "neu:betriebssport"),
    ("Darf ich meinen Hund mit ins Büro bringen?", "neu:hund"),
    ("Hund im Büro erlaubt?", "neu:hund"),
    ("Bürohund – gibt es dazu eine Regelung?", "neu:hund"),
    ("Gibt es ein Stillzimmer?", "neu:stillen"),
    ("Wo kann ich im Rathaus stillen?", "neu:stillen"),
    ("Freistellung für die Pflege der Eltern nach dem Pflegezeitgesetz", "neu:pflegezeit"),
    ("Pflegezeit beantragen", "neu:pflegezeit"),
    ("Wie lange kann ich mich für die Pflege meiner Mutter freistellen lassen?", "neu:pflegezeit"),
]

# Right entry, but the answer does not say what people want to know.
WEAK = [
    ("Zahlt die Stadt mir einen Bürostuhl fürs Homeoffice?", "schwach:mobile-ausstattung"),
    ("Bekomme ich einen zweiten Bildschirm fürs Homeoffice?", "schwach:mobile-ausstattung"),
    ("Homeoffice Ausstattung Schreibtisch", "schwach:mobile-ausstattung"),
]

OFF_TOPIC = [
    ("Wann wird das Gehalt ausgezahlt?", "fremd"),
    ("Wie viele Urlaubstage habe ich?", "fremd"),
    ("VPN geht nicht", "fremd"),
    ("Jobrad leasen", "fremd"),
    ("Was gibt es heute in der Kantine?", "fremd"),
    ("Reisepass verlängern", "fremd"),
    ("Steuerklasse ändern nach der Hochzeit", "fremd"),
]

# Texts that must never become example questions: already redacted by the log, a long
# story, English.
TRICKY = [
    ("Bitte rufen Sie mich an unter [TELEFON] wegen Pflege meines Vaters", "neu:pflegezeit"),
    ("Meine Adresse ist [E-MAIL], schicken Sie mir Infos zur Ferienbetreuung", "neu:ferien"),
    (
        "Hallo, ich arbeite seit acht Jahren in der Bürgerberatung und mein Sohn kommt nach den "
        "Sommerferien in die Schule, die OGS hat aber erst ab August einen Platz und meine "
        "Eltern wohnen weit weg, deshalb wollte ich fragen, ob es irgendeine Ferienbetreuung gibt",
        "neu:ferienbetreuung",
    ),
    ("How do I apply for parental leave?", "beratung-elternzeit"),
    ("Is there any childcare support for employees?", "familienservice-kinderbetreuung"),
    ("Can I bring my dog to the office?", "neu:hund"),
]

SMALLTALK = ["Hallo", "Danke!", "Guten Morgen"]
TERMINAL = ["Test", "Gleitzeit", "testfrage elternzeit", "Wie geht Elternzeit?", "asdf"]


@dataclass(frozen=True, slots=True)
class Asked:
    text: str
    intent: str


def fortnight(seed: int, people: int) -> list[tuple[int, int, Asked]]:
    """(day offset 0–13, person, question): more on weekdays, gaps spread over people.

    The second week brings a new subject (Ferienbetreuung before the summer holidays) and
    more people rating the Homeoffice equipment answer down.
    """
    rnd = random.Random(seed)
    plan: list[tuple[int, int, Asked]] = []
    for week in (0, 1):
        days = [d for d in range(7 * week, 7 * week + 7) if d % 7 < 5] * 3 + [7 * week + 5]
        for text, intent in ANSWERABLE:
            for _ in range(rnd.randint(1, 4)):
                plan.append((rnd.choice(days), rnd.randrange(people), Asked(text, intent)))
        for text, intent in UNSURE:
            for _ in range(rnd.randint(2, 4)):
                plan.append((rnd.choice(days), rnd.randrange(people), Asked(text, intent)))
        gaps = [g for g in GAPS if week == 1 or not g[1].startswith("neu:ferien")]
        for text, intent in gaps:
            for _ in range(rnd.randint(1, 3)):
                plan.append((rnd.choice(days), rnd.randrange(people), Asked(text, intent)))
        for text, intent in WEAK * (1 + week):
            plan.append((rnd.choice(days), rnd.randrange(people), Asked(text, intent)))
        for text, intent in OFF_TOPIC:
            plan.append((rnd.choice(days), rnd.randrange(people), Asked(text, intent)))
        for text, intent in TRICKY if week == 1 else TRICKY[3:5]:
            plan.append((rnd.choice(days), rnd.randrange(people), Asked(text, intent)))
        for text in SMALLTALK:
            plan.append((rnd.choice(days), rnd.randrange(people), Asked(text, "smalltalk")))
    return sorted(plan, key=lambda p: p[0])


def _buttons(reply: Reply, verb: str) -> list[actions.Action]:
    found = []
    for row in reply.buttons:
        for button in row:
            action = actions.decode(button.action)
            if action is not None and action.verb == verb:
                found.append(action)
    return found


def behave(talk: Conversation, user: int, asked: Asked, rnd: random.Random) -> None:
    """Ask, then react as the asker would: the right answer mostly goes unrated, a wrong or
    weak one gets 👎, an offer list gets a pick or "Nichts davon"."""
    [reply, *_] = talk.ask(asked.text, user)
    wanted = asked.intent.split(":", 1)[-1] if not asked.intent.startswith("neu:") else None
    weak = asked.intent.startswith("schwach:")
    feedback = _buttons(reply, "feedback")
    choices = _buttons(reply, "choice")
    if feedback:
        entry = feedback[0].args[1]
        right = entry == wanted and not weak
        if right and rnd.random() < 0.35:
            talk.press(actions.encode("feedback", *feedback[0].args[:2], "1"), user)
        elif not right and rnd.random() < 0.75:
            talk.press(actions.encode("feedback", *feedback[0].args[:2], "0"), user)
    elif choices:
        pick = next((c for c in choices if c.args[1] == wanted), None)
        if pick is not None and not weak and rnd.random() < 0.7:
            talk.press(actions.encode("choice", *pick.args), user)
        elif rnd.random() < 0.8:
            [none] = _buttons(reply, "none")
            talk.press(actions.encode("none", *none.args), user)


class Clock:
    def __init__(self, day: date) -> None:
        self.day = day

    def __call__(self) -> date:
        return self.day


def generate(database: Path, kb_dir: Path, *, seed: int, people: int, end: date) -> Library:
    library, problems = Library.open(kb_dir)
    if library is None:
        raise SystemExit("\n".join(map(str, problems)))
    clock = Clock(end)
    log = QuestionLog(database, b"w" * 32, today=clock, retention_days=3650)
    rnd = random.Random(seed)
    telegram = Conversation(lambda: library.current, log, channel="telegram")
    terminal = Conversation(lambda: library.current, log, channel="terminal")
    start = end - timedelta(days=13)
    for offset, person, asked in fortnight(seed, people):
        clock.day = start + timedelta(days=offset)
        behave(telegram, 10_000 + person, asked, rnd)
    for number, text in enumerate(TERMINAL * 4):
        clock.day = start + timedelta(days=number % 14)
        terminal.ask(text, None)
    log.close()
    return library


def sweep(database: Path, library: Library, end: date) -> None:
    """Per floor: "add as example" proposals, and how many point at the entry people meant."""
    from bot.report import advice

    meant = {a.text: a.intent for _, _, a in fortnight(0, 1)}
    meant.update({t: i for t, i in UNSURE})
    print("floor  beispiel  richtig  falsch  neu  pruefen")
    for floor in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
        advice.SUGGEST_FLOOR = floor  # a benchmark knob; the report takes the module default
        model = report_model(
            database, search_index=library.current.index, knowledge=library.current.kb,
            today=end, max_groups=1000,
        )  # fmt: skip
        kinds = Counter(i.advice.action for i in model.gaps)
        right = wrong = 0
        for item in model.gaps:
            if item.advice.action != "beispiel":
                continue
            intents = Counter(meant.get(t, "?") for t, _ in item.group.texts)
            if intents.most_common(1)[0][0] == item.advice.entry_id:
                right += 1
            else:
                wrong += 1
                print(f"       falsch: {item.group.representative!r} -> {item.advice.entry_id}")
        print(
            f"{floor:5.2f}  {kinds['beispiel']:8d}  {right:7d}  {wrong:6d}  {kinds['neu']:3d}  "
            f"{kinds['pruefen']:7d}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kb", type=Path, default=ROOT / "knowledge" / "koeln")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--people", type=int, default=60)
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 6, 28))
    parser.add_argument("--db", type=Path, default=None, help="keep the log here")
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--html", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = args.db or Path(tmp) / "fragen.db"
        if database.exists():
            database.unlink()
        library = generate(database, args.kb, seed=args.seed, people=args.people, end=args.end)
        if args.sweep:
            sweep(database, library, args.end)
            return
        snapshot = library.current
        options = {"search_index": snapshot.index, "knowledge": snapshot.kb, "today": args.end}
        if args.html:
            args.html.write_text(build_report(database, fmt="html", **options), encoding="utf-8")
        text = build_report(database, **options)  # type: ignore[arg-type]
        if args.full:
            print(text)
            return
        first = text.split("\nÜberblick\n")[0]
        print(first)


if __name__ == "__main__":
    main()
