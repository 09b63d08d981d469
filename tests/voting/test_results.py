"""Results for the minutes, and the "vote" part of the live snapshot."""

import json

import pytest
from django.utils import translation

from meetings.live import MEMBERS, PUBLIC, sitting_panels, snapshot_parts
from meetings.models import AgendaItem, AttendanceEvent
from meetings.register import Register
from tests.factories import arrive, make_item
from tests.voting.conftest import PASSPHRASE
from voting.live import Vote, vote_part, vote_view
from voting.results import outcome_wording
from voting.selectors import item_results
from voting.services.ballots import public_vote_cast, secret_ballot_cast
from voting.services.polls import poll_announce, poll_close, poll_open, poll_unseal

pytestmark = pytest.mark.django_db


def vote_snapshot(meeting, audience):
    """The vote part of one audience's snapshot, as the builder makes it."""
    return vote_view(vote_part(meeting, Register.of(meeting)), audience)


def test_vote_part_and_panel_are_registered():
    part = snapshot_parts()["vote"]
    assert (part.build, part.view, part.schema) == (vote_part, vote_view, Vote)
    assert "voting/_sitting_panel.html" in sitting_panels()


def test_public_vote_outcome_names_those_against_and_abstaining(
    public_poll, chair, members
):
    choices = ["yes"] * 4 + ["no"] * 2 + ["abstain"] * 2
    for member, choice in zip(members, choices):
        public_vote_cast(poll=public_poll, member=member, choice=choice)
    poll_close(poll=public_poll, by=chair)
    outcome = item_results(public_poll.item.meeting)[public_poll.item_id]
    assert (outcome.yes, outcome.no, outcome.abstain) == (4, 2, 2)
    assert outcome.decision == "adopted" and not outcome.secret
    assert sorted(outcome.names_against) == sorted(m.display_name for m in members[4:6])
    assert sorted(outcome.names_abstaining) == sorted(
        m.display_name for m in members[6:8]
    )
    assert outcome.participants == 8


def test_secret_outcome_appears_only_when_announced(
    secret_poll, chair, members, director_general
):
    for member, choice in zip(members, ["yes", "no", "no"]):
        secret_ballot_cast(poll=secret_poll, by=member, choice=choice)
    poll_close(poll=secret_poll, by=chair)
    meeting = secret_poll.item.meeting
    pending = item_results(meeting)[secret_poll.item_id]
    assert pending.pending and pending.decision == "pending"
    assert (pending.yes, pending.no) == (0, 0)
    poll_unseal(poll=secret_poll, by=director_general, passphrase=PASSPHRASE)
    assert item_results(meeting)[secret_poll.item_id].pending
    poll_announce(poll=secret_poll, by=director_general)
    outcome = item_results(meeting)[secret_poll.item_id]
    assert not outcome.pending and outcome.decision == "rejected"
    assert (outcome.yes, outcome.no, outcome.participants) == (1, 2, 3)
    assert outcome.names_against == [] and outcome.names_abstaining == []


def test_open_polls_are_not_outcomes(public_poll):
    assert item_results(public_poll.item.meeting) == {}


def test_snapshot_counts_while_open_and_never_shows_a_sealed_result(
    secret_poll, chair, members, director_general
):
    meeting = secret_poll.item.meeting
    for member in members[:3]:
        secret_ballot_cast(poll=secret_poll, by=member, choice="yes")
    for audience in (MEMBERS, PUBLIC):
        part = vote_snapshot(meeting, audience)
        assert (part["voted"], part["eligible"], part["state"]) == (3, 9, "open")
        assert part["result"] is None
    poll_close(poll=secret_poll, by=chair)
    poll_unseal(poll=secret_poll, by=director_general, passphrase=PASSPHRASE)
    for audience in (MEMBERS, PUBLIC):
        part = vote_snapshot(meeting, audience)
        assert part["result"] is None
        assert "yes" not in json.dumps(part) or part["result"] is None
    poll_announce(poll=secret_poll, by=director_general)
    part = vote_snapshot(meeting, PUBLIC)
    assert part["result"]["yes"] == 3


def test_public_gets_nothing_of_a_closed_session_vote(sitting, chair, keys):
    item = make_item(sitting, kind=AgendaItem.Kind.APPOINTMENT)
    item.candidates.create(name="A")
    poll_open(item=item, by=chair)
    assert vote_snapshot(sitting, PUBLIC) is None
    assert vote_snapshot(sitting, MEMBERS)["secret"] is True


def test_snapshot_is_json_ready_and_empty_without_a_poll(sitting):
    assert vote_snapshot(sitting, MEMBERS) is None
    make_item(sitting)
    assert vote_snapshot(sitting, PUBLIC) is None


def test_public_result_in_the_snapshot_after_closing(public_poll, chair, members):
    public_vote_cast(poll=public_poll, member=members[0], choice="no")
    poll_close(poll=public_poll, by=chair)
    part = vote_snapshot(public_poll.item.meeting, PUBLIC)
    json.dumps(part)
    assert part["result"]["decision"] == "rejected"
    assert part["result"]["names_against"] == [members[0].display_name]


def test_eligible_count_follows_the_register(public_poll, councillor):
    meeting = public_poll.item.meeting
    assert vote_snapshot(meeting, MEMBERS)["eligible"] == 9
    AttendanceEvent.objects.create(
        meeting=meeting, person=councillor, kind="left", at=public_poll.opened_at
    )
    arrive(meeting)  # nobody
    assert vote_snapshot(meeting, MEMBERS)["eligible"] == 8


def test_minutes_text_of_a_public_vote(public_poll, chair, members):
    for member, choice in zip(members, ["yes"] * 4 + ["no", "abstain"]):
        public_vote_cast(poll=public_poll, member=member, choice=choice)
    poll_close(poll=public_poll, by=chair)
    outcome = item_results(public_poll.item.meeting)[public_poll.item_id]
    with translation.override("en"):
        text = " ".join(outcome_wording(outcome))
    assert text == (
        "Public vote: 4 for, 1 against, 1 abstaining. "
        f"Voted against: {members[4].display_name}. "
        f"Abstained: {members[5].display_name}. The proposal is adopted."
    )
    with translation.override("fr"):
        assert "La proposition est adoptée." in outcome_wording(outcome)


def test_minutes_text_of_a_secret_ballot_gives_totals_only(
    secret_poll, chair, members, director_general
):
    for member, choice in zip(members, ["no", "no", "yes"]):
        secret_ballot_cast(poll=secret_poll, by=member, choice=choice)
    poll_close(poll=secret_poll, by=chair)
    meeting = secret_poll.item.meeting
    with translation.override("en"):
        pending = " ".join(outcome_wording(item_results(meeting)[secret_poll.item_id]))
    assert "not been announced" in pending
    poll_unseal(poll=secret_poll, by=director_general, passphrase=PASSPHRASE)
    poll_announce(poll=secret_poll, by=director_general)
    with translation.override("en"):
        text = " ".join(outcome_wording(item_results(meeting)[secret_poll.item_id]))
    assert text.startswith("Secret ballot: 3 members took part. Yes: 1; No: 2")
    assert text.endswith("The proposal is rejected.")
    for member in members[:3]:
        assert member.display_name not in text


def test_minutes_install_the_renderer_of_the_legal_wording():
    from minutes.records import result_wording
    from voting import results

    assert results._wording == [result_wording]


def _closed_public_poll(public_poll, chair, members):
    for member, choice in zip(members, ["yes"] * 4 + ["no", "abstain"]):
        public_vote_cast(poll=public_poll, member=member, choice=choice)
    return poll_close(poll=public_poll, by=chair)


def test_the_poll_page_words_the_outcome_as_the_minutes_do(
    public_poll, chair, members, councillor
):
    from django.urls import reverse

    from tests.conftest import client_for

    poll = _closed_public_poll(public_poll, chair, members)
    client = client_for(councillor)
    client.cookies["django_language"] = "fr"
    page = client.get(reverse("voting:poll", args=[poll.pk])).content.decode()
    assert "Vote public\u202f: 4 voix pour, 1 contre, 1 abstention." in page
    assert "La proposition est adoptée." in page
    results = client.get(reverse("voting:results", args=[poll.item.meeting_id]))
    assert "La proposition est adoptée." in results.content.decode()


def test_without_a_renderer_the_pages_show_the_counts_alone(
    public_poll, chair, members, councillor, monkeypatch
):
    from django.urls import reverse

    from tests.conftest import client_for

    monkeypatch.setattr("voting.results._wording", [])
    poll = _closed_public_poll(public_poll, chair, members)
    client = client_for(councillor)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("voting:poll", args=[poll.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Adopted" in page and "<dd>4</dd>" in page
    assert members[4].display_name in page  # the roll-call lists names
    assert "The proposal is adopted." not in page
    assert "Public vote:" not in page


def test_the_snapshot_result_keeps_the_keys_the_browser_reads(
    public_poll, chair, members
):
    poll = _closed_public_poll(public_poll, chair, members)
    part = vote_snapshot(poll.item.meeting, MEMBERS)
    assert set(part) == {
        "poll",
        "item",
        "secret",
        "state",
        "round",
        "voted",
        "eligible",
        "ballots",
        "result",
    }
    assert part["result"] == {
        "decision": "adopted",
        "yes": 4,
        "no": 1,
        "abstain": 1,
        "blank": 0,
        "appointed": "",
        "candidates": [],
        "names_against": [members[4].display_name],
        "names_abstaining": [members[5].display_name],
    }
    assert (part["voted"], part["ballots"]) == (6, 6)
