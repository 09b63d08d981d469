import datetime

import pytest
from django.urls import reverse

from minutes import services
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

ALL = [
    "chair",
    "councillor",
    "director_general",
    "deputy_director_general",
    "clerk",
    "administrator",
    "outsider",
    None,
]
MAY_SEE_CLOSED = {
    "chair",
    "councillor",
    "director_general",
    "deputy_director_general",
    "clerk",
}


def _get(cast, role, record):
    client = client_for(cast[role] if role else None)
    return client.get(reverse("minutes:verify", args=[record.public_id]))


@pytest.mark.parametrize("role", ALL)
def test_public_record_is_shown_to_everyone(issued, cast, role):
    record = issued[0]
    response = _get(cast, role, record)
    assert response.status_code == 200
    page = response.content.decode()
    assert record.reference in page
    assert record.fingerprint in page
    assert "Article 1er. Le conseil approuve" in page
    assert "Not yet recorded as signed." in page
    assert "In force: not superseded." in page


@pytest.mark.parametrize("role", ALL)
def test_closed_record_content_only_for_members_dg_and_clerk(issued, cast, role):
    record = issued[1]
    response = _get(cast, role, record)
    assert response.status_code == 200
    page = response.content.decode()
    # Anyone holding the paper can still check its fingerprint.
    assert record.fingerprint in page
    if role in MAY_SEE_CLOSED:
        assert "Désignation d’un directeur financier" in page
        assert "Camille Lenoir" in page
    else:
        assert "Désignation" not in page
        assert "Camille Lenoir" not in page
        assert "record-restricted" in page


def test_signed_and_superseded_states_are_shown(issued, clerk, cast):
    services.decision_record_sign(
        record=issued[0],
        by=clerk,
        signed_on=datetime.date(2026, 3, 4),
        signatories="Marie Dubois, Bernard Moreau",
    )
    new = services.decision_record_correct(record=issued[0], by=clerk, reason="typo")
    page = _get(cast, None, issued[0]).content.decode()
    assert "Marie Dubois, Bernard Moreau" in page
    assert f"Superseded by record {new.reference}" in page
    assert new.get_absolute_url() in page
    newer = _get(cast, None, new).content.decode()
    assert issued[0].reference in newer
    assert "In force" in newer


def test_unknown_code_is_404(db, client):
    response = client.get("/verify/00000000-0000-4000-8000-000000000000/")
    assert response.status_code == 404
