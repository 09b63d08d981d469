"""The chair finds the vote controls from the sitting's console."""

import pytest
from django.urls import reverse
from django.utils import translation

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_console_shows_the_vote_panel_with_the_controls_link(sitting, chair):
    # Regression: the console had no way to the vote controls, so a chair
    # running a sitting by hand could not find where to open a vote.
    with translation.override("en"):
        response = client_for(chair).get(
            reverse("meetings:sitting_console", args=[sitting.pk]),
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response.status_code == 200
    html = response.content.decode()
    assert "data-vote-panel" in html
    assert reverse("voting:controls", args=[sitting.pk]) in html


def test_members_page_has_no_controls_link_for_a_councillor(sitting, councillor):
    response = client_for(councillor).get(
        reverse("meetings:sitting", args=[sitting.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "data-vote-panel" in html
    assert reverse("voting:controls", args=[sitting.pk]) not in html


def test_vote_controls_lead_back_to_the_console(sitting, chair):
    response = client_for(chair).get(reverse("voting:controls", args=[sitting.pk]))
    assert response.status_code == 200
    console = reverse("meetings:sitting_console", args=[sitting.pk])
    assert console in response.content.decode()
