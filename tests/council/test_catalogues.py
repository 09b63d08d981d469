"""Every app's catalogue is complete, and the live pages read in Dutch and German.

The .po files are read with a small reader (no extra dependency): an entry is
its flags, context, msgid and msgstr(s); the header entry has an empty msgid.
"""

import ast
import datetime
import gettext
import re
from pathlib import Path

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from council.asgi import application
from meetings.models import AgendaItem, Meeting
from minutes.models import Minutes
from minutes.services import minutes_generate
from tests.conftest import client_for
from tests.factories import arrive, make_item, make_meeting
from voting.models import Poll, PublicVote
from voting.services.polls import poll_open

APPS = ("council", "meetings", "voting", "minutes")  # INSTALLED_APPS order
TRANSLATED = ("fr", "nl", "de")

# The same msgid translated differently by two apps: Django shows the first
# app's words in both. These pairs mean the same thing in both places; any
# other difference must get a context (pgettext) so that each use reads right.
SAME_MEANING = {
    ("fr", "kind"),
    ("fr", "sequence"),
    ("fr", "In the room"),
    ("fr", "agenda item"),
    ("fr", "note"),
    ("nl", "note"),
    ("de", "sequence"),
    ("de", "Remote"),
    ("de", "note"),
}


def _folder(app: str, language: str) -> Path:
    return Path(settings.BASE_DIR) / app / "locale" / language / "LC_MESSAGES"


def _unquote(line: str) -> str:
    return ast.literal_eval(line.strip())


def read_po(path: Path) -> list[dict]:
    """The entries of a .po file, without obsolete ones."""
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        entry = {"flags": set(), "msgctxt": None, "msgid_plural": None, "msgstr": {}}
        field = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif match := re.match(r"(msgctxt|msgid_plural|msgid) (.*)", line):
                field = match.group(1)
                entry[field] = _unquote(match.group(2))
            elif match := re.match(r"msgstr(?:\[(\d+)\])? (.*)", line):
                field = int(match.group(1) or 0)
                entry["msgstr"][field] = _unquote(match.group(2))
            elif line.startswith('"'):
                if isinstance(field, int):
                    entry["msgstr"][field] += _unquote(line)
                else:
                    entry[field] += _unquote(line)
        if "msgid" in entry:
            entries.append(entry)
    return entries


def _key(entry: dict) -> str:
    if entry["msgctxt"] is None:
        return entry["msgid"]
    return f"{entry['msgctxt']}\x04{entry['msgid']}"


def _compiled(app: str, language: str) -> dict:
    with (_folder(app, language) / "django.mo").open("rb") as mo:
        return gettext.GNUTranslations(mo)._catalog


def test_po_reader_sees_fuzzy_and_empty_entries(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: fr\\n"\n\n'
        '#, fuzzy, python-format\nmsgid "A %(x)s"\nmsgstr "Un %(x)s"\n\n'
        'msgctxt "poll"\nmsgid "closed at"\nmsgstr ""\n\n'
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] "un"\nmsgstr[1] ""\n'
        '"plusieurs"\n',
        encoding="utf-8",
    )
    header, fuzzy, empty, plural = read_po(po)
    assert header["msgid"] == "" and "Language: fr" in header["msgstr"][0]
    assert "fuzzy" in fuzzy["flags"]
    assert _key(empty) == "poll\x04closed at" and empty["msgstr"] == {0: ""}
    assert plural["msgstr"] == {0: "un", 1: "plusieurs"}


@pytest.mark.parametrize("language", TRANSLATED)
@pytest.mark.parametrize("app", APPS)
def test_catalogue_translates_every_message_and_is_compiled(app, language):
    entries = read_po(_folder(app, language) / "django.po")[1:]
    assert len(entries) > 100
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert not fuzzy, f"{app}/{language}: fuzzy {fuzzy[:5]}"
    empty = [e["msgid"] for e in entries if not all(e["msgstr"].values())]
    assert not empty, f"{app}/{language}: untranslated {empty[:5]}"
    compiled = _compiled(app, language)
    for entry in entries:
        if entry["msgid_plural"] is None:
            found = compiled.get(_key(entry))
            expected = entry["msgstr"][0]
        else:
            found = compiled.get((_key(entry), 0))
            expected = entry["msgstr"][0]
        assert found == expected, f"{app}/{language}: compile the catalogues"


@pytest.mark.parametrize("app", APPS)
def test_english_catalogue_exists_and_is_compiled(app):
    folder = _folder(app, "en")
    entries = read_po(folder / "django.po")[1:]
    assert len(entries) > 100
    assert not [e for e in entries if "fuzzy" in e["flags"]]
    assert (folder / "django.mo").exists()


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_app_reads_another_app_s_translation_of_a_different_sense(language):
    """Where two apps share a msgid, the first app's words must fit both."""
    catalogues = {app: _compiled(app, language) for app in APPS}
    clashes = set()
    for index, app in enumerate(APPS):
        for key, text in catalogues[app].items():
            if not key or not text:
                continue
            for earlier in APPS[:index]:
                shown = catalogues[earlier].get(key)
                if shown and shown != text:
                    clashes.add((language, key))
    assert clashes <= SAME_MEANING, sorted(clashes - SAME_MEANING)


def test_contexts_keep_apart_what_differs():
    def label(model, name: str) -> str:
        return str(model._meta.get_field(name).verbose_name)

    with translation.override("fr"):
        assert label(Meeting, "opened_at") == "ouverte à"  # la séance
        assert label(Poll, "opened_at") == "ouvert à"  # le scrutin
        assert label(AgendaItem, "session") == "séance"  # not Django's "session"
        assert str(Meeting.State.DRAFT.label) == "Brouillon"
        assert str(Minutes.State.DRAFT.label) == "Projet"
    with translation.override("nl"):
        assert label(AgendaItem, "vote_kind") == "stemming"
        assert label(PublicVote, "choice") == "stem"
        assert str(Minutes.State.ADOPTED.label) == "Goedgekeurd"


# ---- pages -------------------------------------------------------------------

PAGES = {
    # English source strings that must not show once translated, and a few
    # translations that must. The sitting's JS labels travel in the page too.
    "sitting": (
        [
            "Ask for the floor",
            "My presence",
            "Current item",
            "Withdraw my request",
            "Speaking time is up.",
            "Connection lost: reconnecting",
        ],
        {
            "nl": ["Het woord vragen", "Mijn aanwezigheid", "De spreektijd is om."],
            "de": [
                "Das Wort verlangen",
                "Meine Anwesenheit",
                "Redezeit ist abgelaufen",
            ],
        },
    ),
    "gallery": (
        ["Public gallery", "Announced results", "Nobody has the floor."],
        {
            "nl": ["Publieke tribune", "Bekendgemaakte uitslagen"],
            "de": ["Öffentliche Tribüne", "Verkündete Ergebnisse"],
        },
    ),
    "ballot": (
        ["Public roll-call vote", "Cast my vote", "Your vote (public, by roll-call)"],
        {
            "nl": ["Openbare hoofdelijke stemming", "Mijn stem uitbrengen"],
            "de": ["namentliche Abstimmung", "Meine Stimme abgeben"],
        },
    ),
    "minutes": (
        ["Attendance", "Arrived", "Excused:"],
        {"nl": ["Aankomst", "Vertrek"], "de": ["Ankunft", "Abgang"]},
    ),
}


@pytest.fixture
def sitting_in_session(body, chair, councillor, other_councillors):
    meeting = make_meeting(
        body,
        number=1,
        title="Séance du conseil",
        state=Meeting.State.IN_SESSION,
        livestream_url="https://stream.example.org/live",
    )
    make_item(meeting, title="Budget 2027")  # the current item
    a_minute_ago = timezone.now() - datetime.timedelta(minutes=1)
    arrive(meeting, chair, councillor, *other_councillors, at=a_minute_ago)
    return meeting


def _get(user, url: str, language: str) -> str:
    client = client_for(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    return html


def _check(page: str, html: str, language: str) -> None:
    english, translated = PAGES[page]
    for text in english:
        assert text not in html, f"{page}/{language}: {text!r} untranslated"
    for text in translated[language]:
        assert text in html, f"{page}/{language}: {text!r} missing"


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["nl", "de"])
def test_member_sitting_page_and_public_gallery_are_translated(
    language, sitting_in_session, councillor
):
    meeting = sitting_in_session
    html = _get(councillor, reverse("meetings:sitting", args=[meeting.pk]), language)
    _check("sitting", html, language)
    html = _get(None, reverse("meetings:sitting_public", args=[meeting.pk]), language)
    _check("gallery", html, language)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["nl", "de"])
def test_ballot_page_is_translated(language, sitting_in_session, chair, councillor):
    poll = poll_open(item=sitting_in_session.current_item, by=chair)
    html = _get(councillor, reverse("voting:poll", args=[poll.pk]), language)
    _check("ballot", html, language)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["nl", "de"])
def test_minutes_page_is_translated(language, sitting_in_session, clerk):
    meeting = sitting_in_session
    meeting.state = Meeting.State.CLOSED
    meeting.closed_at = timezone.now()
    meeting.save()
    minutes_generate(meeting=meeting, by=clerk)
    html = _get(clerk, reverse("minutes:minutes", args=[meeting.pk]), language)
    _check("minutes", html, language)


# ---- the socket speaks the page's language -----------------------------------


async def _refusal(meeting_id: int, query: str) -> str:
    path = f"/ws/sitting/{meeting_id}/public/{query}"
    headers = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]
    socket = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await socket.connect()
    assert connected, code
    try:
        while True:
            message = await socket.receive_json_from(timeout=2)
            if message["type"] == "snapshot":
                break
        await socket.send_to(text_data="not json")
        while True:
            message = await socket.receive_json_from(timeout=2)
            if message["type"] == "error":
                return message["message"]
    finally:
        await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?lang=nl", "Berichten zijn JSON-objecten."),
        ("?lang=de", "Nachrichten sind JSON-Objekte."),
        ("?lang=en", "Messages are JSON objects."),
        ("?lang=xx", "Les messages sont des objets JSON."),
        ("", "Les messages sont des objets JSON."),
    ],
)
async def test_socket_refusals_are_in_the_page_s_language(
    query, expected, sitting_in_session
):
    assert await _refusal(sitting_in_session.pk, query) == expected
