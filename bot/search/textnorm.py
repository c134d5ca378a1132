"""German text normalisation shared by the search index and the query path.

Both sides must fold text identically, so the rules live in one place: Unicode and case folding,
umlauts and their transcriptions (ä = ae = a), Gender-Sternchen, dashes and quotes
(:func:`fold`); and an :class:`Analyzer` that turns text into search terms with the language
knowledge of a :class:`~bot.knowledge.lexicon.Lexicon` (stop words, abbreviations, English
terms), the Snowball German stemmer (PyStemmer) and compound splitting.
"""

from __future__ import annotations

import re
import unicodedata

import Stemmer

from bot.knowledge.lexicon import Lexicon, OffTopic

PREFIX_MIN = 6

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


def fold(text: str) -> str:
    """Case, Unicode and umlaut folding: 'Führung', 'Fuehrung' and 'fuhrung' become equal."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    text = _GENDER.sub("", text)
    text = text.casefold().translate(_UMLAUTS)
    return text.replace("ae", "a").replace("oe", "o").replace("ue", "u")


def refs_in(text: str) -> list[str]:
    """Official measure numbers such as 4.2.1 mentioned in a question."""
    return _REF.findall(text)


class Analyzer:
    """Text -> stemmed content terms, with one lexicon; shared by index and queries."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._stemmer = Stemmer.Stemmer("german")
        self._stemmer.maxCacheSize = 100_000
        self.stop_words = frozenset(
            w
            for word in lexicon.stop_words | lexicon.filler_words
            for w in _WORD.findall(fold(word))
        )
        self.request_terms = frozenset(self.stem(w) for w in lexicon.request_words)
        self.stop_terms = frozenset(self.stem(w) for w in self.stop_words)
        """Stop words as stems: compound parts such as "-angebot" or "-regelung" say nothing."""
        self.off_topic_terms = {
            self.stem(w): group for group in lexicon.off_topic for w in group.words
        }
        self.missing_terms = frozenset(self.stem(w) for w in lexicon.missing_subjects)
        self._off_topic_long = sorted(
            (t for t in self.off_topic_terms if len(t) >= PREFIX_MIN), key=len, reverse=True
        )
        self._leader_stems = frozenset(self.stem(w) for w in lexicon.leader_titles)
        self.leader = self.stem(LEADER)
        phrases = sorted(lexicon.phrases, key=len, reverse=True)
        self._phrase_re = (
            re.compile(r"\b(" + "|".join(re.escape(p) for p in phrases) + r")\b")
            if phrases
            else None
        )

    def off_topic_prefix(self, term: str) -> OffTopic | None:
        """An off-topic subject whose stem is another form of this term's: Snowball stems
        "Beförderung" to "beforder" but "befördert" to "beford"; one is a prefix of the other.
        Only stems of PREFIX_MIN letters count, so short words never match by accident."""
        if len(term) < PREFIX_MIN:
            return None
        for stem in self._off_topic_long:
            if same_word(stem, term):
                return self.off_topic_terms[stem]
        return None

    def stem(self, word: str) -> str:
        """Snowball German on folded words; feminine forms stem like the masculine ones."""
        if len(word) <= 3 or word.isdigit():
            return word
        w = _FEMININE.sub("", word) if len(word) > 6 else word
        return str(self._stemmer.stemWord(w))

    def words(self, text: str) -> list[str]:
        """Folded words; hyphenated words yield their parts and the joined form."""
        expansions = self.lexicon.expansions
        folded = fold(text)
        if self._phrase_re is not None:
            phrases = self.lexicon.phrases
            folded = self._phrase_re.sub(lambda m: phrases[m.group(1)], folded)
        result: list[str] = []
        for match in _WORD.finditer(folded):
            word = match.group()
            expansion = expansions.get(word)
            if expansion is not None:
                result.extend(expansion.split())
                continue
            if "-" in word:
                parts = [p for p in word.split("-") if p]
                for part in parts:  # "TZ-kompatibel": the abbreviation inside counts too
                    result.extend(expansions.get(part, part).split())
                result.append("".join(parts))
            else:
                result.append(word)
        return result

    def terms(self, text: str) -> list[str]:
        """Stemmed content terms, stop words removed, order kept, duplicates dropped."""
        seen: dict[str, None] = {}
        for word in self.words(_REF.sub(" ", text)):
            if word in self.stop_words or (len(word) < 2 and not word.isdigit()):
                continue
            stemmed = self.stem(word)
            seen.setdefault(stemmed, None)
            if stemmed in self._leader_stems:
                seen.setdefault(self.leader, None)
        return list(seen)


def same_word(stem: str, term: str) -> bool:
    """Whether ``term`` is another form of the word stemmed ``stem``: Snowball stems
    "Beförderung" to "beforder" but "befördert" to "beford"; one is a prefix of the other."""
    return term.startswith(stem) or (stem.startswith(term) and len(stem) - len(term) <= 2)


LEADER = "fuhrungskraft"
"""What the knowledge bases call a person who leads; job titles in the lexicon map onto it."""
