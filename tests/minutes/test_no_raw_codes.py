"""No page or paper prints a vote's code where its words belong.

A ballot records ``yes``, ``no``, ``abstain``, ``blank`` or a candidate's key
(``c:<pk>``); readers see the label ``voting.choices`` gives it, in their
language, and French outcomes keep their narrow no-break space before ":"
and ";". The demo's past sitting is the case: public roll-calls, a secret
ballot on a proposal and a two-round appointment, with minutes and decision
extracts drawn from it. Every page that words an outcome is rendered in the
four languages, and every paper too (a paper speaks the body's language, so
it is printed once per language with the body's language switched).
"""

import copy
import html.parser
import io
import re

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from council import demo as council_demo
from meetings.demo import past_meeting
from minutes.models import DecisionRecord, Minutes
from minutes.pdf import documents
from minutes.services import extract_of
from minutes.text import typography
from tests.conftest import client_for
from voting import choices
from voting.demo import PAST_SECRET_CHOICES
from voting.models import Poll

pytestmark = pytest.mark.django_db

LANGUAGES = ("fr", "nl", "de", "en")
CODES = "|".join(choice.value for choice in choices.VoteChoice)
# A code where a count's label belongs ("yes: 38", "blank : 2"), any case.
CODE_AS_LABEL = re.compile(rf"\b({CODES})\s*[:;]", re.IGNORECASE)
# The same, as the codes are spelt: in English the label words are English
# ("Yes", "Blank"), but never the lowercase code.
LOWERCASE_CODE = re.compile(rf"\b({CODES})\s*:")
CANDIDATE_KEY = re.compile(rf"\b{re.escape(choices.CANDIDATE_PREFIX)}\d+\b")


class _Text(html.parser.HTMLParser):
    """The text a reader sees: no tags, attributes, scripts or styles."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def page_text(response) -> str:
    assert response.status_code == 200, response.status_code
    parser = _Text()
    parser.feed(response.content.decode())
    return " ".join(parser.parts)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def assert_no_raw_code(text: str, language: str, where: str):
    pattern = LOWERCASE_CODE if language == "en" else CODE_AS_LABEL
    found = pattern.search(text) or CANDIDATE_KEY.search(text)
    assert found is None, (
        f"{where} ({language}) prints a raw code: "
        f"…{text[max(found.start() - 60, 0) : found.end() + 30]}…"
    )


def tally_words(language: str) -> list[str]:
    """How the demo's secret ballot must read: each count after its label."""
    with translation.override(language):
        return [
            typography(f"{choices.label(code)}: {count}")
            for code, count in PAST_SECRET_CHOICES.items()
        ]


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo council with its closed past sitting, minutes and extracts."""
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=fast):
        call_command("seed_demo", verbosity=0)
        cast = council_demo.seed()
        meeting = past_meeting(cast)
        yield cast, meeting
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def sitting(demo):
    cast, meeting = demo
    records = list(DecisionRecord.objects.filter(meeting=meeting))
    polls = list(Poll.objects.filter(item__meeting=meeting))
    assert {poll.secret for poll in polls} == {True, False}
    assert any(poll.candidates.exists() for poll in polls)
    assert records
    return cast, meeting, polls, records


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_page_prints_a_raw_choice_code(sitting, language):
    cast, meeting, polls, records = sitting
    client = client_for(cast.director_general)
    client.cookies["django_language"] = language
    pages = {
        "results": reverse("voting:results", args=[meeting.pk]),
        "minutes": reverse("minutes:minutes", args=[meeting.pk]),
        **{f"poll {p.pk}": reverse("voting:poll", args=[p.pk]) for p in polls},
        **{f"verify {r.reference}": r.get_absolute_url() for r in records},
    }
    texts = {}
    for where, url in pages.items():
        texts[where] = page_text(client.get(url))
        assert_no_raw_code(texts[where], language, where)
    # The secret ballot's tally reads with the labels of voting.choices.
    for words in tally_words(language):
        assert words in texts["results"], words
        assert words in texts["minutes"], words


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_paper_prints_a_raw_choice_code(sitting, language):
    cast, meeting, polls, records = sitting
    minutes = Minutes.objects.get(meeting=meeting)
    content = copy.deepcopy(minutes.content)
    content["body"]["language"] = language
    papers = {"minutes": documents.minutes_document(content, draft=True, version=1)}
    for record in records:
        extract = extract_of(record)
        extract.content["body"]["language"] = language
        papers[f"extract {record.reference}"] = documents.decision_extract(extract)
    raw = {where: pdf_text(data) for where, data in papers.items()}
    texts = {where: flat(text) for where, text in raw.items()}
    for where, text in texts.items():
        assert_no_raw_code(text, language, where)
    for words in tally_words(language):
        assert flat(words) in texts["minutes"], words
        assert any(flat(words) in t for w, t in texts.items() if w != "minutes")


def test_the_views_print_the_same_papers(sitting):
    """The PDFs served to readers are the ones checked above (body's language)."""
    cast, meeting, polls, records = sitting
    client = client_for(cast.director_general)
    language = meeting.body.language
    response = client.get(reverse("minutes:minutes_pdf", args=[meeting.pk]))
    assert response.status_code == 200
    text = flat(pdf_text(response.content))
    assert_no_raw_code(text, language, "minutes.pdf")
    for record in records:
        response = client.get(reverse("minutes:record_pdf", args=[record.pk]))
        assert response.status_code == 200
        assert_no_raw_code(flat(pdf_text(response.content)), language, "extract")


def test_paper_keeps_the_french_space_before_a_colon_unbroken():
    """ReportLab breaks at a narrow no-break space: paper gets a no-break one."""
    vote = {"secret": True, "participants": 3, "yes": 2, "no": 1}
    with translation.override("fr"):
        lines = [p.text for p in documents._vote(vote)]
        label = choices.label(choices.VoteChoice.YES)
    assert f"{label}\u00a0: 2\u00a0;" in lines[1]
    assert not any("\u202f" in line for line in lines)


@pytest.mark.parametrize(
    "line, french",
    [
        ("Pour : 38 ; contre: 1 !", "Pour\u202f: 38\u202f; contre\u202f: 1\u202f!"),
        ("Clôturer le vote ?", "Clôturer le vote\u202f?"),
        # A time, an address and a reference keep their colon as they are.
        (
            "Séance à 19:00, https://example.org/v",
            "Séance à 19:00, https://example.org/v",
        ),
    ],
)
def test_french_spacing_before_punctuation(line, french):
    assert typography(line, "fr") == french
    assert typography(line, "nl") == line
    with translation.override("fr"):
        assert typography(line) == french
