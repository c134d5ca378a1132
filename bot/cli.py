"""The ``python -m bot`` command line (also installed as ``vereinbar``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click

from bot.config import ConfigError, Settings, load_settings
from bot.search.library import Library, Snapshot

if TYPE_CHECKING:
    from bot.report.site import CardWording

LANGUAGE_NAMES = {"de": "Deutsch", "en": "Englisch"}


class Fehler(click.ClickException):
    """A one-line German error for operators and admins, without a traceback."""

    def show(self, file: object = None) -> None:
        click.echo(f"Fehler: {self.format_message()}", err=True)


kb_option = click.option(
    "--kb",
    "kb",
    type=click.Path(path_type=Path),
    default=None,
    help="Ordner der Wissensbasis (Standard: BOT_KNOWLEDGE_DIR oder knowledge/koeln).",
)
db_option = click.option(
    "--db",
    "db",
    type=click.Path(path_type=Path),
    default=None,
    help="SQLite-Datei des Frageprotokolls (Standard: BOT_DATABASE oder data/fragen.db).",
)


def settings_for(kb: Path | None = None, db: Path | None = None) -> Settings:
    ctx = click.get_current_context(silent=True)
    if ctx is not None:  # `python -m bot --kb X ask …` means the same as `ask --kb X`
        root = ctx.find_root().params
        kb = kb if kb is not None else root.get("kb")
        db = db if db is not None else root.get("db")
    try:
        return load_settings().with_overrides(kb=kb, db=db)
    except ConfigError as exc:
        raise Fehler(str(exc)) from exc


def open_library(
    settings: Settings, *, semantic: Literal["off", "wait", "background"] = "off"
) -> Library:
    """Load the knowledge base or stop with its German problems.

    ``semantic``: "off" for tools that never search (export, portal, report), "wait" for
    one-shot questions, "background" for the bot and the chat, which answer with the words
    alone until the embeddings are ready.
    """
    from bot.search.embedder import load_embedder

    embedder = load_embedder(settings.semantic) if semantic != "off" else None
    library, problems = Library.open(
        settings.knowledge_dir,
        embedder=embedder,
        cache_dir=settings.database.parent / ".vereinbar-cache" if embedder else None,
        background=semantic == "background",
    )
    if library is None:
        errors = "\n".join(str(p) for p in problems if p.severity == "fehler")
        raise Fehler(f"Die Wissensbasis ist fehlerhaft:\n{errors}")
    return library


@click.group(invoke_without_command=True)
@click.version_option(package_name="vereinbar")
@kb_option
@db_option
@click.pass_context
def cli(ctx: click.Context, kb: Path | None, db: Path | None) -> None:
    """vereinbar – der Chat-Bot zu Angeboten für Beruf und Familie.

    Ohne Befehl startet der Telegram-Bot, wenn TELEGRAM_BOT_TOKEN gesetzt ist, sonst ein Chat
    im Terminal.
    """
    if ctx.invoked_subcommand is None:
        settings = settings_for(kb, db)
        ctx.invoke(run if settings.token else chat, kb=kb, db=db)


lang_option = click.option(
    "--lang",
    "lang",
    type=click.Choice(["de", "en"]),
    default="de",
    show_default=True,
    help="Sprache der Antworten: de (Deutsch) oder en (Englisch).",
)


@cli.command()
@kb_option
@db_option
@lang_option
def chat(kb: Path | None, db: Path | None, lang: str) -> None:
    """Chat im Terminal, mit denselben Antworten wie in Telegram.

    \b
    Beispiele:
        python -m bot chat --kb knowledge/herne
        python -m bot chat --lang en
    """
    from bot.chat.conversation import Conversation
    from bot.chat.handoff import Handoff
    from bot.chat.language import LanguageChoice
    from bot.chat.terminal import chat as run_chat
    from bot.log.writer import QuestionLog, load_or_create_secret

    settings = settings_for(kb, db)
    # A person at the terminal gets the prompt at once (words only until the embeddings are
    # ready); a script piping questions in gets every answer with the semantic signal.
    library = open_library(settings, semantic="background" if sys.stdin.isatty() else "wait")
    log = None
    try:
        settings.database.parent.mkdir(parents=True, exist_ok=True)
        secret = load_or_create_secret(settings.database, settings.log_secret)
        log = QuestionLog(settings.database, secret, retention_days=settings.retention_days)
    except Exception as exc:  # the chat works without a log; say why it is off
        click.echo(f"Hinweis: Frageprotokoll nicht verfügbar ({exc}).", err=True)
    # With BOT_HANDOFF_CHAT_ID the terminal offers the way to the counselling office too: it
    # shows what would be sent and says that it has no counselling group.
    handoff = Handoff(keep_days=settings.handoff_days) if settings.handoff_chat_id else None
    conversation = Conversation(
        lambda: library.current,
        log,
        channel="terminal",
        retention_days=settings.retention_days,
        handoff=handoff,
        languages=LanguageChoice(default=lang),
    )
    try:
        run_chat(conversation)
    finally:
        if log is not None:
            log.close()


@cli.command()
@kb_option
@db_option
@click.option(
    "--webhook",
    "webhook",
    metavar="URL",
    default=None,
    help="Webhook statt Long Polling: öffentliche HTTPS-Adresse des Bots.",
)
@click.option(
    "--listen",
    "listen",
    metavar="HOST:PORT",
    default=None,
    help="Adresse, auf der der Webhook-Server lauscht (Standard 127.0.0.1:8443).",
)
def run(kb: Path | None, db: Path | None, webhook: str | None, listen: str | None) -> None:
    """Telegram-Bot starten (Long Polling mit TELEGRAM_BOT_TOKEN, optional Webhook).

    \b
    Beispiele:
        python -m bot run
        python -m bot run --webhook https://bot.example.org/telegram --listen 0.0.0.0:8443
    """
    from bot.runtime.app import run_bot

    settings = settings_for(kb, db)
    if not settings.token:
        raise Fehler(
            "TELEGRAM_BOT_TOKEN fehlt – ohne Token startet "
            "'python -m bot chat' einen Chat im Terminal."
        )
    if webhook is not None and not webhook.startswith("https://"):
        raise Fehler("--webhook muss eine https://-Adresse sein.")
    address = _listen(listen) if listen else None
    # fail before connecting when the knowledge base is broken
    library = open_library(settings, semantic="background")
    run_bot(settings, library, webhook_url=webhook, listen=address)


def _listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise Fehler(f"--listen '{value}': erwartet HOST:PORT, z. B. 0.0.0.0:8443")
    return host, int(port)


@cli.command()
@kb_option
@db_option
@click.option("--json", "as_json", is_flag=True, help="Ergebnis als JSON (für die Überwachung).")
@click.option(
    "--quittieren",
    "acknowledge",
    is_flag=True,
    help="Bisherige Verluste des Frageprotokolls als geklärt bestätigen.",
)
def status(kb: Path | None, db: Path | None, as_json: bool, acknowledge: bool) -> None:
    """Zustand für die Überwachung: Bot, Telegram, Frageprotokoll, Wissensbasis.

    Exit-Code 1, sobald der Bot nicht antwortet oder Daten verliert: kein oder ein altes
    Lebenszeichen, Telegram nicht erreichbar oder Token abgelehnt, ein zweiter Bot mit
    demselben Token, Wartung hängt, Frageprotokoll nicht beschreibbar, verlorene Fragen
    (bis --quittieren), Datenbank beschädigt oder im Betrieb gelöscht, Wissensbasis
    fehlerhaft oder nicht lesbar.

    \b
    Beispiele:
        python -m bot status
        python -m bot status --json
    """
    from bot.runtime.monitor import acknowledge as acknowledge_losses
    from bot.runtime.monitor import assess

    settings = settings_for(kb, db)
    if acknowledge:
        try:
            seen = acknowledge_losses(settings.database)
        except OSError as exc:
            raise Fehler(f"Quittung nicht speicherbar: {exc}") from exc
        click.echo(
            f"Quittiert: {seen.rows} verlorene Fragen, {seen.recreated}× neu angelegte Datenbank.",
            err=True,
        )
    result = assess(settings)
    if as_json:
        click.echo(result.as_json())
    else:
        for line in result.lines:
            click.echo(line)
        for problem in result.problems:
            click.echo(f"Problem: {problem}", err=True)
        if result.ok:
            click.echo("Alles in Ordnung.")
    if not result.ok:
        sys.exit(1)


@cli.command()
@click.argument("target", type=click.Path(path_type=Path))
@db_option
def backup(target: Path, db: Path | None) -> None:
    """Frageprotokoll im laufenden Betrieb sichern (SQLite Online-Backup).

    Die Sicherung ist nur für den Eigentümer lesbar (0600, sie enthält die Fragetexte); schlägt
    sie fehl, bleibt keine halbe Datei (.part) zurück.

    \b
    Beispiel:
        python -m bot backup /var/backups/vereinbar/fragen-$(date +%F).db
    """
    import sqlite3

    from bot.runtime.ops import backup as run_backup

    settings = settings_for(None, db)
    try:
        pages = run_backup(settings.database, target)
    except (OSError, sqlite3.Error) as exc:
        raise Fehler(f"Sicherung fehlgeschlagen: {exc}") from exc
    click.echo(f"Gesichert: {settings.database} → {target} ({pages} Seiten, integrity_check ok)")


@cli.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Ergebnis als JSON ausgeben.")
@kb_option
@lang_option
def ask(question: str | None, as_json: bool, kb: Path | None, lang: str) -> None:
    """Eine Frage stellen und die Antwort ausgeben.

    Ohne FRAGE wird je Zeile der Standardeingabe eine Frage gelesen.

    \b
    Beispiele:
        python -m bot ask "Wie geht Elternzeit?"
        python -m bot ask --json "homeoffice regeln"
        python -m bot ask --lang en "my mother needs care, who can help me?"
        printf 'kita\\nsabbatical\\n' | python -m bot ask --json
    """
    from bot.chat.conversation import Conversation
    from bot.chat.language import LanguageChoice
    from bot.chat.terminal import render

    library = open_library(settings_for(kb), semantic="background")
    questions = [question] if question is not None else (line.rstrip("\r\n") for line in sys.stdin)
    conversation = Conversation(
        lambda: library.current, None, channel="terminal", languages=LanguageChoice(default=lang)
    )
    for q in questions:
        # The embeddings are awaited only by a question the words alone cannot answer:
        # "Elternzeit" comes back at once, even at the first start of a knowledge base.
        if not library.semantic_ready and not library.current.index.words_suffice(q):
            library.wait_semantic()
        if as_json:
            click.echo(json.dumps(result_json(library.current, q), ensure_ascii=False))
            continue
        for reply in conversation.ask(q):
            click.echo(render(reply)[0])


def result_json(snapshot: Snapshot, question: str) -> dict[str, object]:
    result = snapshot.index.search(question, limit=5)
    return {
        "question": question,
        "answered": result.answered,
        "outcome": result.outcome,
        "matches": [
            {
                "id": m.entry.id,
                "kind": m.entry.kind,
                "ref": m.entry.ref,
                "title": m.entry.title,
                "score": m.score,
            }
            for m in result.matches
        ],
        **({"redirect": result.redirect.redirect} if result.redirect else {}),
        **({"suggestions": [m.entry.id for m in result.suggestions]} if result.suggestions else {}),
    }


@cli.command()
@kb_option
@click.option(
    "--ohne-selbsttest",
    "skip_selftest",
    is_flag=True,
    help="Nur die Dateien prüfen, die Beispielfragen nicht durchsuchen.",
)
def check(kb: Path | None, skip_selftest: bool) -> None:
    """Wissensbasis prüfen (Exit-Code 1 bei Fehlern).

    Meldet Syntaxfehler, unbekannte oder fehlende Felder, doppelte ids und refs, Verweise auf
    unbekannte Kontakte oder Themen, unsicheres YAML – und prüft im Selbsttest, ob jede
    Beispielfrage ihren eigenen Eintrag zuerst findet. Fehlende englische Übersetzungen
    (titel_en, antwort_en, …) sind Warnungen.
    """
    from bot.search.selftest import self_test

    settings = settings_for(kb)
    library, problems = Library.open(settings.knowledge_dir)
    for problem in problems:
        click.echo(str(problem), err=problem.severity == "fehler")
    errors = sum(p.severity == "fehler" for p in problems)
    if library is None:
        click.echo(f"{errors} Fehler – die Wissensbasis wurde nicht übernommen.", err=True)
        sys.exit(1)
    kb_ = library.current.kb
    untranslated = [*kb_.untranslated, *library.current.index.lexicon.untranslated]
    for problem in untranslated:  # English readers see German there; nothing stops
        click.echo(str(problem))
    click.echo(
        f"{kb_.organisation.name}: {len(kb_.entries)} Einträge, {len(kb_.topics)} Themen, "
        f"Version {kb_.version}."
    )
    if skip_selftest:
        return
    collisions = self_test(library.current.index)
    total = sum(len(e.examples) for e in kb_.entries.values())
    for collision in collisions:
        click.echo(f"Selbsttest: {collision}", err=True)
    if collisions:
        click.echo(
            f"Selbsttest: {len(collisions)} von {total} Beispielfragen finden nicht ihren "
            "eigenen Eintrag zuerst – Stichworte oder Beispielfragen schärfen.",
            err=True,
        )
        sys.exit(1)
    click.echo(f"Selbsttest: alle {total} Beispielfragen finden ihren Eintrag.")


@cli.command()
@click.option(
    "--json",
    is_flag=True,
    expose_value=False,
    help="JSON ist das einzige Format; die Angabe ist freiwillig.",
)
@kb_option
def export(kb: Path | None) -> None:
    """Alle Einträge der Wissensbasis als JSON ausgeben (für Intranet und andere Werkzeuge).

    Jedes Textfeld steht zuerst auf Deutsch, dann mit der Endung _en auf Englisch (title_en,
    answer_en, …; null, wo noch nicht übersetzt).
    """
    snapshot = open_library(settings_for(kb)).current
    kb_ = snapshot.kb
    org = kb_.organisation
    # The German fields are a contract with the intranet: unchanged; the English ones follow.
    data = {
        "organisation": {
            "name": org.name,
            "source": org.source,
            "as_of": org.as_of,
            "counselling": org.counselling,
            "name_en": org.name_en,
            "source_en": org.source_en,
        },
        "version": kb_.version,
        "topics": [
            {
                "id": t.id,
                "number": t.number,
                "title": t.title,
                "description": t.description,
                "title_en": t.title_en,
                "description_en": t.description_en,
            }
            for t in kb_.topics.values()
        ],
        "entries": [e.to_json() for e in kb_.entries.values()],
    }
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@cli.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Zielordner des Portals (leer oder ein früher erzeugtes Portal).",
)
@kb_option
@click.option(
    "--bot-username",
    "bot_username",
    metavar="NAME",
    default=None,
    help="Telegram-Name des Bots für die Links „Im Chat fragen“ (t.me/NAME?start=<id>).",
)
@click.option("--serve", is_flag=True, help="Vorschau auf http://127.0.0.1 anbieten.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port der Vorschau (0 = freier Port).",
)
def site(
    out: Path | None, kb: Path | None, bot_username: str | None, serve: bool, port: int
) -> None:
    """Intranet-Portal aus der Wissensbasis erzeugen (statische HTML-Seiten mit Suche).

    Der Ordner enthält alles (HTML, CSS, Suchindex) und lädt nichts von anderen Servern; er
    kann auf jeden Webserver oder ein Netzlaufwerk kopiert werden.

    \b
    Beispiele:
        python -m bot site --out portal --bot-username VereinbarBot
        python -m bot site --kb knowledge/herne --out portal-herne
        python -m bot site --serve --port 8080
    """
    import tempfile

    from bot.report import site as portal

    if out is None and not serve:
        raise Fehler("--out ORDNER fehlt (oder --serve für eine Vorschau ohne Zielordner).")
    snapshot = open_library(settings_for(kb)).current
    kb_ = snapshot.kb
    with tempfile.TemporaryDirectory(prefix="vereinbar-portal-") as scratch:
        target = out if out is not None else Path(scratch)
        try:
            result = portal.build_site(
                kb_,
                target,
                analyzer=snapshot.index.analyzer,
                wording=portal_wording(),  # the bot card's words, so both say the same
                bot_username=bot_username,
            )
        except portal.SiteError as exc:
            raise Fehler(str(exc)) from exc
        click.echo(
            f"Portal geschrieben: {target} – {result.pages} Seiten auf "
            + " und ".join(LANGUAGE_NAMES.get(lang, lang) for lang in result.languages)
            + f", {kb_.organisation.name}, "
            f"Version {kb_.version}"
            + (f", {len(result.removed)} veraltete Dateien entfernt" if result.removed else ""),
            err=True,
        )
        if not bot_username:
            click.echo("Hinweis: ohne --bot-username keine Links „Im Chat fragen“.", err=True)
        if not serve:
            return
        try:
            server = portal.make_server(target, port)
        except OSError as exc:
            raise Fehler(f"Vorschau auf Port {port} nicht möglich: {exc.strerror}") from exc
        click.echo(f"Vorschau: {portal.address(server)} – beenden mit Strg+C", err=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()


def portal_wording() -> dict[str, CardWording]:
    """The bot card's words per language for the portal (``bot.report.site.CardWording``):
    status line, kind and status labels and the 'no English text yet' line, from the chat's
    own catalogue, so portal and chat say the same."""
    from functools import partial

    from bot.chat.cards import status_text
    from bot.chat.texts import Texts
    from bot.knowledge.model import LANGUAGES
    from bot.report.site import CardWording

    wording: dict[str, CardWording] = {}
    for language in LANGUAGES:
        texts = Texts.load(language)
        wording[language] = CardWording(status=partial(status_text, texts=texts), words=texts.plain)
    return wording


def main() -> None:
    cli(prog_name="python -m bot")


@cli.command()
@db_option
@kb_option
@click.option(
    "--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Erster Tag (JJJJ-MM-TT)."
)
@click.option(
    "--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Letzter Tag (JJJJ-MM-TT)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "csv", "html"]),
    default="text",
    show_default=True,
    help="Ausgabeformat; html enthält die Diagramme.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="In Datei schreiben statt auf die Standardausgabe.",
)
@click.option(
    "--ignore",
    "ignore",
    multiple=True,
    metavar="GRUPPE",
    help="Gruppe offener Fragen dauerhaft als irrelevant ausblenden (mehrfach möglich).",
)
@click.option(
    "--channel",
    "channel",
    type=click.Choice(["telegram", "terminal", "alle"]),
    default="telegram",
    show_default=True,
    help="Nur Fragen aus diesem Kanal zählen; die anderen stehen gesondert im Bericht.",
)
def report(
    db: Path | None,
    kb: Path | None,
    since: object,
    until: object,
    fmt: str,
    out: Path | None,
    ignore: tuple[str, ...],
    channel: str,
) -> None:
    """Auswertung des Frageprotokolls für das Projektteam.

    Zuerst die nächsten Schritte (die drei größten Lücken, die Einträge mit den meisten 👎,
    was sich seit der Vorwoche geändert hat), dann Fragen je Woche, Antwortquote, Themen,
    Einträge, offene Lücken mit YAML-Vorschlag, erledigte und themenfremde Fragen.

    \b
    Beispiele:
        python -m bot report
        python -m bot report --since 2026-01-01 --format html --out bericht.html
        python -m bot report --channel terminal
        python -m bot report --ignore 3fa4c2b1d0
    """
    from datetime import datetime

    from bot.report import build as reports

    settings = settings_for(kb, db)
    snapshot = open_library(settings).current
    for group in ignore:
        try:
            reports.ignore_group(settings.database, group, lexicon=snapshot.index.lexicon)
        except ValueError as exc:
            raise Fehler(str(exc)) from exc
        click.echo(f"Gruppe {group} wird künftig ausgeblendet.", err=True)
    text = reports.build_report(
        settings.database,
        since=since.date() if isinstance(since, datetime) else None,
        until=until.date() if isinstance(until, datetime) else None,
        fmt=fmt,  # type: ignore[arg-type]
        search_index=snapshot.index,
        knowledge=snapshot.kb,
        channel=channel,
    )
    if out is None:
        click.echo(text)
        return
    out.write_text(text, encoding="utf-8")
    click.echo(f"Bericht geschrieben: {out}", err=True)


@cli.command()
@db_option
@click.option("--port", type=int, default=8001, show_default=True, help="Port für Datasette.")
@click.option(
    "--nur-vorbereiten",
    "prepare_only",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    metavar="ORDNER",
    help="Nur die sichere Kopie und die Metadaten in ORDNER schreiben, nichts starten.",
)
def browse(db: Path | None, port: int, prepare_only: Path | None) -> None:
    """Frageprotokoll im Browser ansehen (Datasette, nur lesend, ohne Pseudonyme).

    Serviert eine Kopie mit Fragetexten und Tageszahlen – ohne Fragen-IDs und Pseudonyme –,
    nur die vorbereiteten Abfragen, kein freies SQL, nur auf 127.0.0.1. Die Kopie zeigt den
    Stand beim Start. Braucht ``pip install datasette``.

    \b
    Beispiele:
        python -m bot browse
        python -m bot browse --db /var/lib/vereinbar/protokoll.db --port 8002
    """
    import contextlib
    import shutil
    import subprocess
    import tempfile

    from bot.report import browse as safe_copy

    database = settings_for(None, db).database
    if prepare_only is not None:
        try:
            copy, metadata = safe_copy.prepare(database, prepare_only)
        except FileNotFoundError as exc:
            raise Fehler(str(exc)) from exc
        click.echo(f"Vorbereitet: {copy} und {metadata}")
        return
    if shutil.which("datasette") is None:
        raise Fehler("Datasette ist nicht installiert: pip install datasette")
    with tempfile.TemporaryDirectory(prefix="vereinbar-") as folder:  # 0700, removed afterwards
        try:
            copy, metadata = safe_copy.prepare(database, Path(folder))
        except FileNotFoundError as exc:
            raise Fehler(str(exc)) from exc
        click.echo(f"Datasette auf http://127.0.0.1:{port}/ – beenden mit Strg+C", err=True)
        command = [
            "datasette", "serve", "--immutable", str(copy), "--metadata", str(metadata),
            "--setting", "default_allow_sql", "off", "--host", "127.0.0.1", "--port", str(port),
        ]  # fmt: skip
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C ends Datasette, then the copy
            subprocess.run(command, check=False)


@cli.command("export-log")
@db_option
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="In Datei schreiben statt auf die Standardausgabe.",
)
def export_log(db: Path | None, out: Path | None) -> None:
    """Tageszählungen und geschwärzte Fragetexte als CSV (';'-getrennt, UTF-8 für Excel) –
    ohne Pseudonyme."""
    from bot.report import build as reports

    text = reports.export_csv(settings_for(None, db).database)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
