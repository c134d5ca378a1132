"""The project team in Telegram: report file, weekly summary, gap list, menus, all-clear."""

from __future__ import annotations

import json
from datetime import time
from typing import Any

from fakebotapi import _parse_html
from harness import TEAM, USER, LiveBot, StartBot, button, until

from bot.report.text import html_messages


def _record(bot: LiveBot, questions: list[tuple[str, str]], *, users: int = 3) -> None:
    """Log (text, outcome) pairs from several people, as the chat would."""
    kb = bot.services.library.current.kb
    for number, (text, outcome) in enumerate(questions):
        entry = kb.entries.get("familienservice-kinder") if outcome == "answered" else None
        bot.log.record(
            question=text, outcome=outcome, entry_id=entry.id if entry else None,
            topic=entry.topic if entry else None, score=0.5, kb_version=kb.version,
            channel="telegram", user_id=1000 + number % users,
        )  # fmt: skip
    bot.log.flush()


def _params(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def test_bericht_sends_the_html_report_with_next_steps_as_caption(running: LiveBot) -> None:
    _record(running, [("Zuschuss zum Fitnessstudio?", "unknown")] * 3)
    reply = await running.ask("/bericht", user=TEAM)
    assert reply.method == "sendDocument"
    document = reply.message["document"]
    assert document["file_name"].startswith("bericht-") and document["file_name"].endswith(".html")
    html = running.api.file_bytes(document["file_id"]) or b""
    assert html.startswith(b"<!DOCTYPE html>") and "Nächste Schritte".encode() in html
    assert "Nächste Schritte" in (reply.text or "")
    assert "Neuer Eintrag „zuschuss-fitnessstudio“" in (reply.text or "")


async def test_bericht_is_a_team_command(running: LiveBot) -> None:
    reply = await running.ask("/bericht")
    assert reply.text == "Diesen Befehl kenne ich nicht. /hilfe zeigt, was ich kann."


async def test_gap_list_with_markup_characters_is_valid_html(running: LiveBot) -> None:
    subjects = ["Fitnessstudio", "Stillzimmer", "Ferienbetreuung", "Bürohund", "Betriebssport"]
    _record(
        running,
        [(f"Gibt's & wo <b>{s}</b> 'bei' uns? " + "& " * 30, "unknown") for s in subjects] * 2,
    )
    gaps = await running.ask("/luecken", user=TEAM)
    assert "Gibt's & wo <b>" in (gaps.text or "")  # shown as typed, not as markup
    assert button(gaps, "🙈")


def test_html_messages_stay_valid_and_within_the_limit_at_any_length() -> None:
    text = "Überschrift & mehr\n" + "\n".join(
        f"{i}. „A & B <c>“ – 'x' & y" * 20 for i in range(400)
    )
    text += "\n" + "&" * 10_000  # one line far longer than a message, growing five-fold
    parts = html_messages(text)
    assert len(parts) > 10
    rebuilt = []
    for part in parts:
        assert len(part) <= 4096
        plain, _ = _parse_html(part)  # raises on anything Telegram would reject
        rebuilt.append(plain)
    assert rebuilt[0].startswith("Überschrift & mehr")
    assert "".join(rebuilt).count("&") == text.count("&")


async def test_hide_button_updates_the_list_in_place(running: LiveBot) -> None:
    questions = [("Zuschuss zum Fitnessstudio?", "unknown")]
    _record(running, [*questions, ("Wo kann ich im Rathaus stillen?", "unknown")] * 2)
    gaps = await running.ask("/luecken", user=TEAM)
    assert "Fitnessstudio" in (gaps.text or "") and "stillen" in (gaps.text or "")
    data = button(gaps, "🙈 ausblenden: Zuschuss")
    edited = await running.click(gaps, data, user=TEAM)
    assert edited.method == "editMessageText" and edited.message_id == gaps.message_id
    assert "Fitnessstudio" not in (edited.text or "") and "stillen" in (edited.text or "")
    labels = [b["text"] for row in (edited.reply_markup or {})["inline_keyboard"] for b in row]
    assert labels == ["🙈 ausblenden: Wo kann ich im Rathaus stillen?"]


async def test_team_menu_is_set_for_team_chats_only(running: LiveBot) -> None:
    calls = running.api.calls("setMyCommands")
    default = [c for c in calls if not c.params.get("scope") and not c.params.get("language_code")]
    scoped = [c for c in calls if c.params.get("scope")]
    [public] = default
    assert "bericht" not in [c["command"] for c in _params(public.params["commands"])]
    [team] = scoped
    assert _params(team.params["scope"]) == {"type": "chat", "chat_id": TEAM}
    names = [c["command"] for c in _params(team.params["commands"])]
    assert {"statistik", "luecken", "bericht", "neuladen", "hilfe"} <= set(names)


async def test_help_lists_team_commands_for_the_team_only(running: LiveBot) -> None:
    team = await running.ask("/hilfe", user=TEAM)
    assert "So fragen Sie mich" in (team.text or "")
    assert "Für das Projektteam" in (team.text or "") and "/bericht" in (team.text or "")
    other = await running.ask("/hilfe", user=USER)
    assert "/bericht" not in (other.text or "") and "Projektteam" not in (other.text or "")


async def test_bot_description_is_set_at_start(running: LiveBot) -> None:
    [description, english] = running.api.calls("setMyDescription")
    [short, english_short] = running.api.calls("setMyShortDescription")
    assert "Stadt Köln" in description.params["description"]
    assert "language_code" not in description.params
    assert 0 < len(short.params["short_description"]) <= 120
    # English apps get the English twins, with the English name of the organisation.
    assert english.params["language_code"] == english_short.params["language_code"] == "en"
    assert english.params["description"].startswith("I answer questions from the staff of ")
    assert "Stadt Köln (City of Cologne)" in english.params["description"]
    assert 0 < len(english_short.params["short_description"]) <= 120


async def test_all_clear_follows_a_fixed_knowledge_base(running: LiveBot) -> None:
    path = running.kb_dir / "massnahmen.yaml"
    good = path.read_text(encoding="utf-8")
    path.write_text("massnahmen: [\n  - id: kaputt", encoding="utf-8")
    warning = await running.ask("/neuladen", user=TEAM)
    assert "fehlerhaft" in (warning.text or "")
    path.write_text(good, encoding="utf-8")
    running.api.send_text(TEAM, "/neuladen")
    await until(
        lambda: any("wieder in Ordnung" in (m.text or "") for m in running.api.messages(TEAM))
    )
    assert not running.services.kb_broken


async def test_statistics_names_topics_by_their_own_title(running: LiveBot) -> None:
    # Topic "familienservice" and the contact "familienservice" share an id.
    _record(running, [("Babysitter über den Familienservice?", "answered")] * 6)
    stats = await running.ask("/statistik", user=TEAM)
    text = stats.text if stats.method == "sendMessage" else running.api.messages(TEAM)[-2].text
    title = running.services.library.current.kb.topics["familienservice"].title
    assert f"{title} (6)" in (text or "")
    assert "externer Dienstleister" not in (text or "")
    assert "(familienservice)" not in (text or "")


async def test_weekly_summary_goes_to_the_team(start_bot: StartBot) -> None:
    bot = await start_bot(weekly_report=(0, time(8, 0)))
    _record(bot, [("Zuschuss zum Fitnessstudio?", "unknown")] * 3)
    [job] = bot.application.job_queue.get_jobs_by_name("wochenbericht")
    assert job.next_t.weekday() == 0 and (job.next_t.hour, job.next_t.minute) == (8, 0)
    await bot.ask("/hilfe", user=TEAM)  # a member's private chat exists once they wrote
    before = len(bot.api.messages(TEAM))
    await job.run(bot.application)
    messages = (await bot.api.wait_for_messages(TEAM, before + 2))[before:]
    assert "Wochenbericht" in (messages[0].text or "")
    assert "Nächste Schritte" in (messages[0].text or "")
    assert messages[-1].method == "sendDocument"


async def test_no_weekly_job_without_the_setting(running: LiveBot) -> None:
    assert not running.application.job_queue.get_jobs_by_name("wochenbericht")
