"""German text normalisation shared by the search index and the query path.

Both sides must fold text identically, so the rules live in one place: Unicode and case folding,
umlauts and their transcriptions (ä = ae = a), Gender-Sternchen, dashes and quotes, stop words
and a light CISTEM-style stemmer.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Chat filler and function words; content words that merely appear everywhere (Stadt, Arbeit)
# are left to IDF weighting instead.
STOP_WORDS = frozenset(
    """
    a ab aber alle allem allen aller alles als also am an ander andere anderen anders auch auf
    aus bei beim bin bis bist bitte bzw da dabei dadurch dafuer dafur dagegen daher damit dann
    dar daran darauf daraus darf darfst darum das dass dazu dein deine deinem deinen deiner dem
    den denn der deren des dessen dich die dies diese diesem diesen dieser dieses dir doch dort
    du durch eher ein eine einem einen einer eines einfach einige einmal er es etwa etwas euch
    euer eure fuer fur gab gar gibt gibts gilt gut hab habe haben hast hat hatte hatten hier hin
    hallo hey hi ich ihm ihn ihnen ihr ihre ihrem ihren ihrer im in ins ist ja je jede jedem jeden
    jeder jedes jetzt kann kannst kein keine keinem keinen keiner koennen koennte konnen konnte
    kriege kriegt lass man manche mehr mein meine meinem meinen meiner meines mich mir mit moechte
    mochte muss musst muessen mussen nach nein nicht nichts noch nun nur ob oder ohne sehr sei
    sein seine seinem seinen seiner seit sich sie sind so soll sollen sollte sondern sowie ueber
    uber um und uns unser unsere unserem unseren unserer unter viel vom von vor war waere ware
    waren warum was weil welche welchem welchen welcher welches wenn wer werde werden wie wieder
    will wir wird wirst wo woher wohin wollen wuerde wurde wurden zu zum zur zwar zwischen
    eigentlich gerne gern mal halt bzgl ca evtl ggf usw zb okay ok eig irgendwie irgendwas
    frage fragen info infos information informationen erfahren wissen weiss sagen erklaeren
    erklaren geht gehts gehen klappt machen mache macht tun gibt's wann wieso weshalb welches
    leute jemand jemanden the is a an of to for how do does can i my me what where when
    brauche brauchst braucht brauchen bräuchte suche suchst sucht suchen bekomme bekommst bekommt
    bekommen möchten würde würden hätte hätten wäre könnt dürfen darf's kriegen komme kommst kommt
    kommen gehört gehören weiß wüsste finde findet finden denke glaube stimmt richtig genau schon
    immer nie oft ganz total echt super bisschen wirklich möglich möglichkeit möglichkeiten
    erst sonst eh gerade grad bald dann eben ebenfalls trotzdem überhaupt also quasi sowieso
    """.split()
)

# Words every question to this bot may contain; they neither point to an entry nor away from one.
DOMAIN_FILLER = frozenset(
    """
    kontakt kontakte kontaktdaten ansprechpartner ansprechpartnerin ansprechperson zustandig
    zustandigkeit angebot angebote stadt stadtverwaltung verwaltung koln herne mitarbeiter
    mitarbeitende mitarbeitenden beschaftigte beschaftigten kollegen kollege arbeitgeber
    arbeitgeberin hilfe helfen unterstutzung regelung regelungen regel regeln thema themen
    details genau genauer wo wen wem welche welcher massnahme massnahmen nummer punkt
    """.split()
)

_UMLAUTS = str.maketrans(
    {
        "ä": "a",
        "ö": "o",
        "ü": "u",
        "ß": "ss",
        "æ": "ae",
        "ø": "o",
        # typographic hyphens and dashes: "Job–Sharing" is "Job-Sharing"
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
    }
)
_GENDER = re.compile(r"(?<=\w)[*:_/·]\s?in(nen)?\b|(?<=[a-z])In(nen)?\b")
_REF = re.compile(r"(?<![\d.])(\d{1,2}\.\d{1,2}\.\d{1,2})(?![\d.])")
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_FEMININE = re.compile(r"(?<=[a-z]{2})(?:(?<=er|or|nt|st|ef|og|af|at|ur|ol|ar|eg|zt)in$|innen$)")
_INVISIBLE = re.compile(
    r"[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)


def _folded_words(word: str) -> list[str]:
    return _WORD.findall(fold(word))


def fold(text: str) -> str:
    """Case, Unicode and umlaut folding: 'Führung', 'Fuehrung' and 'fuhrung' become equal."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    text = _GENDER.sub("", text)
    text = text.casefold().translate(_UMLAUTS)
    return text.replace("ae", "a").replace("oe", "o").replace("ue", "u")


# Request words: they say what someone wants done, not what about; weak evidence for an entry.
GENERIC_WORDS = frozenset(
    """
    beantragen antrag antrage formular formulare melden meldung termin termine verlangern
    kundigen schicken einreichen abgeben nehmen frist fristen beginnen anfangen aufhoren
    bekommen erhalten stellen ausfullen unterschreiben prufen anmelden abmelden andern
    wechseln ablauf dauer kosten kostet zahlen bezahlt geld erreichen erreiche erreicht
    kontaktieren anrufen anschreiben sprechen wenden ansprechen
    """.split()
)

# Subjects employees also ask an HR bot about, which no work-life-balance offer covers. They
# count against every entry unless an entry names them itself (title or keyword).
OFF_TOPIC_WORDS = frozenset(
    """
    gehalt gehalter lohn besoldung gehaltsabrechnung lohnabrechnung abrechnung lohnsteuer
    steuer steuern steuererklarung urlaub urlaubsantrag urlaubstag urlaubstage resturlaub
    krankmeldung krankschreibung arbeitsunfahigkeit attest dienstreise reisekosten
    fahrtkosten beihilfe zeugnis arbeitszeugnis kundigung kundigen beforderung
    hohergruppierung tarif tarifvertrag tvod dienstwagen parkplatz parkplatze jobticket
    kantine speiseplan mittagessen betriebsausflug weihnachtsfeier vpn passwort kennwort
    drucker outlook postfach wlan software installieren reisepass personalausweis wohngeld
    mull sperrmull parkausweis anwohnerparkausweis fuhrerschein zulassung hundesteuer
    ummelden meldebescheinigung burgeramt standesamt wetter fussball bundesliga corona impfung
    gebuhr gebuhren bussgeld strafzettel au arbeitsunfahigkeitsbescheinigung
    """.split()
)

# The subjects of work-life balance. A knowledge base that lacks one of them (Herne has no care
# offer) must not answer a question about it with whatever else the question mentions.
SUBJECT_WORDS = frozenset(
    """
    pflege pflegen pflegefall pflegebedurftig angehorige demenz elternzeit elterngeld
    mutterschutz kita kindergarten krippe tagesmutter kinderbetreuung ferienbetreuung
    homeoffice telearbeit teilzeit gleitzeit sabbatical arbeitszeitkonto jobsharing
    vaternetzwerk stillraum
    """.split()
)

STOP_WORDS = frozenset(w for word in STOP_WORDS | DOMAIN_FILLER for w in _folded_words(word))


def refs_in(text: str) -> list[str]:
    """Official measure numbers such as 4.2.1 mentioned in a question."""
    return _REF.findall(text)


# Abbreviations common in German administrations and English terms of international staff,
# mapped to the German words the knowledge base uses. Applied to questions and entries alike.
EXPANSIONS = {
    "tz": "teilzeit",
    "vz": "vollzeit",
    "ho": "homeoffice",
    "fk": "fuhrungskraft",
    "fkt": "fuhrungskraft",
    "ma": "mitarbeitende",
    "az": "arbeitszeit",
    "vaz": "vertrauensarbeitszeit",
    "kiga": "kindergarten",
    "ogs": "offene ganztagsschule betreuung",
    "zuhause": "hause",
    "daheim": "hause",
    "flexitime": "gleitzeit",
    "sabbatical": "sabbatical auszeit",
    "childcare": "kinderbetreuung",
    "daycare": "kita kinderbetreuung",
    "kindergarten": "kindergarten kita",
    "nanny": "kinderbetreuung",
    "babysitter": "babysitter kinderbetreuung",
    "care": "pflege",
    "caregiver": "pflege angehorige",
    "elderly": "pflege",
    "remote": "homeoffice mobiles arbeiten",
    "telework": "telearbeit",
    "desk": "buro",
    "coworking": "buro sharing",
    "leadership": "fuhrung",
    "manager": "fuhrungskraft",
    "boss": "fuhrungskraft",
    "training": "fortbildung",
    "relocation": "umzug location service",
    "onboarding": "einarbeitung willkommen",
    "network": "netzwerk",
    "fathers": "vater",
    "dad": "vater",
    "dads": "vater",
    "mum": "mutter",
    "mom": "mutter",
    "parents": "eltern",
    "child": "kind",
    "children": "kinder",
    "kids": "kinder",
    "kid": "kind",
}
_PHRASES = {
    "parental leave": "elternzeit",
    "part time": "teilzeit",
    "part-time": "teilzeit",
    "full time": "vollzeit",
    "home office": "homeoffice",
    "working hours": "arbeitszeit",
    "core hours": "kernarbeitszeit",
    "working time": "arbeitszeit",
    "child care": "kinderbetreuung",
    "time off": "auszeit",
    "mobile work": "mobiles arbeiten",
    "job sharing": "jobsharing",
    "desk sharing": "buro sharing",
    "work from home": "homeoffice",
    "working from home": "homeoffice",
    "new employees": "neue mitarbeitende",
}
_PHRASE_RE = re.compile(r"\b(" + "|".join(re.escape(p) for p in _PHRASES) + r")\b")


def words(text: str) -> list[str]:
    """Folded words; hyphenated words yield their parts and the joined form."""
    result: list[str] = []
    folded = _PHRASE_RE.sub(lambda m: _PHRASES[m.group(1)], fold(text))
    for match in _WORD.finditer(folded):
        word = match.group()
        expansion = EXPANSIONS.get(word)
        if expansion is not None:
            result.extend(expansion.split())
            continue
        if "-" in word:
            parts = [p for p in word.split("-") if p]
            for part in parts:  # "TZ-kompatibel": the abbreviation inside counts too
                result.extend(EXPANSIONS.get(part, part).split())
            result.append("".join(parts))
        else:
            result.append(word)
    return result


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light CISTEM-like stemmer on folded words (no umlauts left by then)."""
    if len(word) <= 3 or word.isdigit():
        return word
    # Feminine forms stem like the masculine ones: Leiterin(nen) ~ Leiter, Chefinnen ~ Chef.
    w = _FEMININE.sub("", word) if len(word) > 6 else word
    w = w.replace("sch", "$").replace("ei", "%").replace("ie", "&")
    w = re.sub(r"(.)\1", r"\1*", w)
    while len(w) > 3:
        if len(w) > 5 and w[-2:] in ("em", "er", "nd"):
            w = w[:-2]
            continue
        if w[-1] in "esn":
            w = w[:-1]
            continue
        break
    w = re.sub(r"(.)\*", r"\1\1", w)
    return w.replace("$", "sch").replace("%", "ei").replace("&", "ie")


# Job titles that all mean "a person who leads": the knowledge base says Führungskraft.
_LEADER_ROLES = frozenset(
    """
    abteilungsleiter abteilungsleitung teamleiter teamleitung sachgebietsleiter
    sachgebietsleitung amtsleiter amtsleitung fachbereichsleiter fachbereichsleitung
    dienststellenleiter dienststellenleitung bereichsleiter bereichsleitung gruppenleiter
    gruppenleitung vorgesetzte vorgesetzter chef chefin leiter leiterin
    """.split()
)
LEADER = "fuhrungskraft"


def terms(text: str) -> list[str]:
    """Stemmed content terms of a text, stop words removed, order kept, duplicates dropped."""
    seen: dict[str, None] = {}
    for word in words(_REF.sub(" ", text)):
        if word in STOP_WORDS or (len(word) < 2 and not word.isdigit()):
            continue
        stemmed = stem(word)
        seen.setdefault(stemmed, None)
        if stemmed in _LEADER_STEMS:
            seen.setdefault(_LEADER_STEM, None)
    return list(seen)


_LEADER_STEMS = frozenset(stem(w) for w in _LEADER_ROLES)
_LEADER_STEM = stem(LEADER)
