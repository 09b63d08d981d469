"""Four languages: a switcher, a remembered choice, translated pages."""

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from council.models import Body
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def _choose(client: Client, language: str, next_url: str = "/"):
    return client.post(
        reverse("set_language"), {"language": language, "next": next_url}
    )


def test_switcher_offers_the_four_languages(db):
    html = Client().get(reverse("home")).content.decode()
    assert f'action="{reverse("set_language")}"' in html
    for code in ("fr", "nl", "de", "en"):
        assert f'<option value="{code}"' in html


def test_default_language_is_french(db):
    html = Client().get(reverse("home")).content.decode()
    assert '<html lang="fr">' in html
    assert "Se connecter" in html


@pytest.mark.parametrize(
    ("language", "expected", "absent"),
    [
        ("nl", ["Raadszittingen", "Aanmelden", "Naar de hoofdinhoud"], "Se connecter"),
        ("de", ["Ratssitzungen", "Anmelden", "Zum Hauptinhalt springen"], "Aanmelden"),
        ("en", ["Council meetings", "Log in", "Skip to main content"], "Anmelden"),
        ("fr", ["Séances du conseil", "Se connecter"], "Log in"),
    ],
)
def test_choice_is_remembered_and_the_page_renders_in_it(language, expected, absent):
    client = Client()
    response = _choose(client, language)
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == language
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME]["max-age"] >= 30 * 24 * 3600
    html = client.get(reverse("home")).content.decode()
    assert f'<html lang="{language}">' in html
    for text in expected:
        assert text in html
    assert absent not in html


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("nl", ["Welkom", "Voorzitterschap van de raad", "Als raadslid", "Voorzitter"]),
        ("de", ["Willkommen", "Vorsitz des Rates", "Als Ratsmitglied", "Vorsitz"]),
    ],
)
def test_member_home_page_is_translated(language, texts, chair):
    client = client_for(chair)
    _choose(client, language)
    html = client.get(reverse("home")).content.decode()
    for text in texts:
        assert text in html


def test_login_page_is_translated_in_german(db):
    client = Client()
    _choose(client, "de")
    html = client.get(reverse("account_login")).content.decode()
    assert "Konten werden vom Schriftführer" in html
    assert "Passwort vergessen?" in html


def test_every_catalogue_translates_every_message():
    """No empty or fuzzy translation, and each compiled catalogue is committed."""
    locale = Path(settings.BASE_DIR) / "council" / "locale"
    for language in ("fr", "nl", "de", "en"):
        folder = locale / language / "LC_MESSAGES"
        po = (folder / "django.po").read_text(encoding="utf-8")
        body = po.split("\n\n", 1)[1]  # without the header entry
        assert len(re.findall(r"^msgid ", body, re.M)) > 100, language
        assert not re.search(r'^msgstr(\[\d\])? ""\n(?!")', body, re.M), language
        assert "#, fuzzy" not in po, language
        with (folder / "django.mo").open("rb") as compiled:
            catalogue = gettext.GNUTranslations(compiled)._catalog
        entries = len(re.findall(r"^msgid ", body, re.M))
        assert len(catalogue) - 1 >= entries, f"{language}: run make messages"


def test_model_labels_follow_the_language():
    with translation.override("nl"):
        assert str(Body.Kind.MUNICIPAL_COUNCIL.label) == "Gemeenteraad"
    with translation.override("de"):
        assert str(Body._meta.verbose_name_plural) == "Organe"
