from django.urls import reverse

from tests.conftest import client_for
from voting.services.keys import sealing_key_setup


def _home(user) -> str:
    # The English source strings: the catalogues' tests check the translations.
    return (
        client_for(user)
        .get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")
        .content.decode()
    )


def test_keyholder_without_a_key_is_asked_to_set_one_up(body, director_general):
    html = _home(director_general)
    assert "Set up your sealing key for secret ballots" in html
    assert reverse("voting:key_setup", args=[body.slug]) in html


def test_keyholder_with_a_key_sees_it_done(body, confirmed_deputy):
    deputy_director_general = confirmed_deputy
    sealing_key_setup(
        body=body,
        by=deputy_director_general,
        passphrase="a passphrase long enough",
        confirm="a passphrase long enough",
    )
    html = _home(deputy_director_general)
    assert "Your sealing key for secret ballots" in html
    assert "Set up your sealing key" not in html


def test_members_and_clerk_see_no_sealing_key_link(body, chair, councillor, clerk):
    for user in (chair, councillor, clerk):
        assert reverse("voting:key_setup", args=[body.slug]) not in _home(user)
