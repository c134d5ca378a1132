"""The real Application against the fake Bot API server: every step crosses real HTTP."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from harness import TEAM, USER, LiveBot, button, buttons, until

from bot.chat import actions
from bot.runtime.ops import read_heartbeat


async def test_start_shows_welcome_and_topic_menu(running: LiveBot) -> None:
    reply = await running.ask("/start")
    assert "Willkommen" in (reply.text or "")
    labels = [label for label, _ in buttons(reply)]
    topics = running.services.library.current.kb.topics.values()
    assert {t.title for t in topics} <= set(labels)


async def test_commands_are_registered_in_german(running: LiveBot) -> None:
    calls = running.api.calls("setMyCommands")
    assert calls, "setMyCommands was not called at start-up"
    default = next(c for c in calls if "language_code" not in c.params)  # English: its own
    names = [c["command"] for c in _json_list(default.params["commands"])]
    assert {"start", "themen", "kontakt", "hilfe", "datenschutz", "vergessen"} <= set(names)


async def test_question_gets_answer_card_and_feedback_is_logged(running: LiveBot) -> None:
    reply = await running.ask("Oma zieht zu uns und braucht Pflege")
    assert "Pflege" in (reply.text or "").split("\n")[0]
    assert "Hat das geholfen?" in (reply.text or "")
    edited = await running.click(reply, button(reply, "👎"))
    assert edited.method == "editMessageText"
    assert "Persönlich weiter hilft" in (edited.text or "")
    [row] = running.rows()
    assert row["feedback"] == 0 and row["outcome"] == "answered"


async def test_unknown_question_names_counselling_office(running: LiveBot) -> None:
    reply = await running.ask("Wie hoch ist der Kölner Dom")
    assert "weiß ich leider nichts" in (reply.text or "")
    assert "Beratungsstelle" in (reply.text or "")


async def test_ambiguous_question_offers_choices_and_click_shows_card(running: LiveBot) -> None:
    reply = await running.ask("teilzeit")
    assert "Meinten Sie" in (reply.text or "")
    choices = [(label, data) for label, data in buttons(reply) if data.startswith("c|")]
    assert len(choices) >= 2
    label, data = choices[0]
    card = await running.click(reply, data)
    assert card.method == "editMessageText"
    assert (card.text or "").startswith(label[:20])


async def test_nothing_fits_counts_as_gap(running: LiveBot) -> None:
    reply = await running.ask("teilzeit")
    edited = await running.click(reply, button(reply, "Nichts davon"))
    assert "Persönlich weiter hilft" in (edited.text or "")
    [row] = running.rows()
    assert row["chosen_entry"] is None and row["gap"] == 1


async def test_topics_browse_and_back(running: LiveBot) -> None:
    menu = await running.ask("/themen")
    title = running.services.library.current.kb.topics["familienservice"].title
    topic = await running.click(menu, actions.encode("topic", "familienservice"))
    assert topic.method == "editMessageText" and title in (topic.text or "")
    entry_data = next(d for _, d in buttons(topic) if d.startswith("e|"))
    detail = await running.click(topic, entry_data)
    assert "Für wen" in (detail.text or "")
    back = await running.click(detail, button(detail, "◀ zurück"))
    assert back.message_id == menu.message_id and title in (back.text or "")


async def test_deep_link_opens_topic(running: LiveBot) -> None:
    reply = await running.ask("/start arbeitsort")
    assert "Arbeitsort" in (reply.text or "")


async def test_stale_callback_gets_friendly_menu(running: LiveBot) -> None:
    menu = await running.ask("/themen")
    running.api.send_callback(USER, "e|gibt-es-nicht", menu.message_id, check_button=False)
    reply = (await running.api.wait_for_messages(USER, 2))[-1]
    assert "veraltet" in (reply.text or "")
    # Forged data on the same message: same friendly text, so only the toast shows it.
    running.api.send_callback(USER, "\x00garbage|||", menu.message_id, check_button=False)
    await until(lambda: len(running.api.calls("answerCallbackQuery")) == 2)
    answers = running.api.calls("answerCallbackQuery")
    assert [a.params.get("text") for a in answers] == ["Menü veraltet", "Menü veraltet"]


async def test_non_text_gets_hint(running: LiveBot) -> None:
    running.api.send_update(
        {
            "message": {
                "message_id": 5,
                "date": 0,
                "chat": {"id": USER, "type": "private"},
                "from": {"id": USER, "is_bot": False, "first_name": "T"},
                "sticker": {
                    "file_id": "x",
                    "file_unique_id": "y",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                    "type": "regular",
                },
            }
        }
    )
    reply = (await running.api.wait_for_messages(USER, 1))[-1]
    assert "nur Textnachrichten" in (reply.text or "")


async def test_group_chat_gets_hint_and_nothing_is_logged(running: LiveBot) -> None:
    group = -1001
    running.api.send_text(USER, "/start", chat_type="group", chat_id=group)
    reply = (await running.api.wait_for_messages(group, 1))[-1]
    assert "privaten Chat" in (reply.text or "")
    running.api.send_text(USER, "Elternzeit wie geht das", chat_type="group", chat_id=group)
    assert len(await running.barrier(group, group_of=USER)) == 1
    assert running.rows() == []


async def test_edited_message_is_not_answered_again(running: LiveBot) -> None:
    reply = await running.ask("Gleitzeit")
    running.api.send_update(
        {
            "edited_message": {
                **reply.message,
                "message_id": 1,
                "from": {"id": USER, "is_bot": False, "first_name": "T"},
                "text": "Gleitzeit?",
                "edit_date": 1,
            }
        }
    )
    assert len(await running.barrier()) == 1


async def test_long_answer_is_split(running: LiveBot) -> None:
    reply = await running.ask("/kontakt")
    texts = [m.text or "" for m in running.api.messages(USER)]
    assert all(len(t) <= 4096 for t in texts) and reply.text


async def test_429_delays_answer_but_loses_nothing(running: LiveBot) -> None:
    running.api.fail_next("sendMessage", 429, retry_after=1)
    reply = await asyncio.wait_for(running.ask("Spielekoffer"), 10)
    assert "Spielekoffer" in (reply.text or "")
    assert len([m for m in running.api.messages(USER) if m.method == "sendMessage"]) == 1


async def test_team_commands_are_refused_to_others(running: LiveBot) -> None:
    for command in ("/statistik", "/luecken", "/neuladen"):
        reply = await running.ask(command)
        assert reply.text == "Diesen Befehl kenne ich nicht. /hilfe zeigt, was ich kann."


async def test_hot_reload_with_broken_file_keeps_serving_and_tells_team(
    running: LiveBot,
) -> None:
    (running.kb_dir / "massnahmen.yaml").write_text(
        "massnahmen: [\n  - id: kaputt", encoding="utf-8"
    )
    reply = await running.ask("/neuladen", user=TEAM)
    assert "fehlerhaft" in (reply.text or "") and "massnahmen.yaml" in (reply.text or "")
    answer = await running.ask("Spielekoffer")
    assert "Spielekoffer" in (answer.text or "")


def _json_list(value: Any) -> list[Any]:
    return json.loads(value) if isinstance(value, str) else list(value)


async def test_team_gets_statistics_with_chart_and_gaps_with_ignore_button(
    running: LiveBot,
) -> None:
    await running.ask("Zuschuss zum Fitnessstudio?")  # an open gap ("Reisepass" is off-topic)
    await running.ask("Gibt es einen Zuschuss zum Fitnessstudio?")
    stats = await running.ask("/statistik", user=TEAM)
    photos = [m for m in running.api.messages(TEAM) if m.method == "sendPhoto"]
    if not photos:
        await running.api.wait_for_messages(TEAM, 2)
        photos = [m for m in running.api.messages(TEAM) if m.method == "sendPhoto"]
    assert "Fragen" in (stats.text or "") or photos
    assert len(photos) == 1
    assert (running.api.file_bytes(photos[0].message["photo"][-1]["file_id"]) or b"").startswith(
        b"\x89PNG"
    )
    gaps = await running.ask("/luecken", user=TEAM)
    assert "Fitnessstudio" in (gaps.text or "")
    ignore = button(gaps, "🙈")
    running.api.send_callback(TEAM, ignore, gaps.message_id)
    await until(
        lambda: any(
            c.params.get("text") == "Gruppe ausgeblendet"
            for c in running.api.calls("answerCallbackQuery")
        )
    )
    again = await running.ask("/luecken", user=TEAM)
    assert "Fitnessstudio" not in (again.text or "")


async def test_non_team_cannot_press_ignore_buttons(running: LiveBot) -> None:
    menu = await running.ask("/themen")
    running.api.send_callback(USER, "x|0123456789", menu.message_id, check_button=False)
    await until(lambda: running.api.calls("answerCallbackQuery"))
    answers = running.api.calls("answerCallbackQuery")
    assert answers[-1].params.get("text") == "Menü veraltet"


async def test_saved_edit_is_picked_up_without_restart_or_command(running: LiveBot) -> None:
    path = running.kb_dir / "massnahmen.yaml"
    text = path.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if "titel:" in line and "Spielekoffer" in line)
    good = running.services.library.current
    path.write_text(text.replace(old, '    titel: "Spielekisten fürs Büro"'), encoding="utf-8")
    # The watcher checks every 2 s and waits for the edit to settle; the heartbeat that names
    # the new version ends the maintenance round that swapped it.
    await until(lambda: running.services.library.current is not good)
    version = running.services.library.current.kb.version
    await until(lambda: (read_heartbeat(running.database) or {}).get("kb_version") == version)
    card = await running.ask("Spielekoffer")
    assert (card.text or "").startswith("Spielekisten fürs Büro")
    assert not [m for m in running.api.messages(TEAM)]  # a good edit sends the team nothing
