"""Redaction of contact and account data in logged questions."""

import pytest

from bot.log.redact import MAX_LENGTH, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mail an max.mustermann@stadt-koeln.de bitte", "Mail an [E-MAIL] bitte"),
        ("Erika.M+test@example.org?", "[E-MAIL]?"),
        ("Ruf mich an: +49 221 1234567", "Ruf mich an: [TELEFON]"),
        ("+49 (0)221 221-0", "[TELEFON]"),
        ("+492211234567", "[TELEFON]"),
        ("0049 171 1234567", "[TELEFON]"),
        ("Tel. 0221/123456.", "Tel. [TELEFON]."),
        ("Tel 0221 / 123 456", "Tel [TELEFON]"),
        ("Handy 0171-1234567", "Handy [TELEFON]"),
        ("Handy 0171 1234567", "Handy [TELEFON]"),
        ("(0221) 22 12 34", "[TELEFON]"),
        ("Durchwahl 0800 1234567-12", "Durchwahl [TELEFON]"),
        ("IBAN DE89 3704 0044 0532 0130 00 bitte", "IBAN [IBAN] bitte"),
        ("IBAN DE89370400440532013000", "IBAN [IBAN]"),
        ("iban de89 3704 0044 0532 0130 00", "iban [IBAN]"),
        ("Personalnummer 1234567", "Personalnummer [NUMMER]"),
        ("PNr. 45678", "PNr. [NUMMER]"),
        ("https://intranet.example.de/seite?token=abc&id=5.", "https://intranet.example.de/seite?[PARAMETER]."),
        ("siehe https://example.de/a#zugang=xyz", "siehe https://example.de/a#[PARAMETER]"),
        ("Schreib @erika_m73 an", "Schreib [NUTZERNAME] an"),
        ("Danke! Viele Grüße, Erika Mustermann", "Danke! Viele Grüße, [NAME]"),
        ("LG Tom", "LG [NAME]"),
        ("Mein Name ist Müller, wer hilft?", "Mein Name ist [NAME], wer hilft?"),
        ("Hallo, hier ist Erika Mustermann.", "Hallo, hier ist [NAME]."),
    ],
)  # fmt: skip
def test_redacts_every_kind(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Was bedeutet Maßnahme 4.2.1?",
        "Maßnahmen 1.1.1–8.3.1 und 8.3.1",
        "Gilt das seit 2020 oder erst 2025?",
        "Von 2020-2025 geplant",
        "Ab dem 01.02.2025 um 8:30 Uhr",
        "Ich arbeite 30 Stunden, also 75 % bzw. 75%",
        "Teilzeit mit 19,5 Stunden und 3 Kindern",
        "Siehe https://www.stadt-koeln.de/leben-in-koeln/familie/ – ist das aktuell?",
        "Kann ich 2 Tage Homeoffice machen?",
        "Ich bin Beamtin in Teilzeit",
        "Hier ist Teilzeit möglich?",
        "Grüße an das Team, geht Sabbatical?",
    ],
)
def test_keeps_measure_numbers_years_dates_hours(text: str) -> None:
    assert redact(text) == text


def test_strips_control_and_invisible_characters() -> None:
    assert redact("Eltern\x00zeit\u200b?\nJa\tbitte\u202e") == "Elternzeit? Ja bitte"


def test_invisible_characters_cannot_hide_an_address() -> None:
    assert redact("max\u200b@example\u200b.de") == "[E-MAIL]"


def test_caps_length() -> None:
    result = redact("Frage " * 200)
    assert len(result) <= MAX_LENGTH
    assert result.endswith("…")


def test_very_long_input_does_not_leak_a_cut_address() -> None:
    text = "x " * 1999 + "verylongname@example.de"
    assert "@" not in redact(text)


def test_empty() -> None:
    assert redact("") == ""
    assert redact(" \n ") == ""
