"""Appointments: candidates, rounds, run-off and the age tie-break."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation

from council.refusals import Refusal
from meetings.models import AgendaItem
from tests.factories import make_item
from tests.voting.conftest import PASSPHRASE
from voting.models import Candidate, Poll
from voting.results import outcome_wording
from voting.selectors import item_results
from voting.services.ballots import secret_ballot_cast
from voting.services.polls import (
    ALREADY_DECIDED,
    CANDIDATES_LOCKED,
    NO_CANDIDATES,
    NOT_APPOINTMENT,
    RESULT_PENDING,
    candidate_add,
    poll_announce,
    poll_close,
    poll_open,
    poll_unseal,
)

pytestmark = pytest.mark.django_db

OLD = datetime.date(1955, 5, 5)
YOUNG = datetime.date(1985, 5, 5)


@pytest.fixture
def appointment(sitting, clerk):
    item = make_item(sitting, kind=AgendaItem.Kind.APPOINTMENT, title="Directeur")
    for name, born in [("Alice", YOUNG), ("Bruno", OLD), ("Chloé", None)]:
        candidate_add(item=item, by=clerk, name=name, birth_date=born)
    return item


def run_round(item, chair, dg, members, choices):
    poll = poll_open(item=item, by=chair)
    by_name = {c.name: c for c in Candidate.objects.filter(item=item)}
    for member, choice in zip(members, choices, strict=False):
        key = "blank" if choice == "blank" else f"c:{by_name[choice].pk}"
        secret_ballot_cast(poll=poll, by=member, choice=key)
    poll_close(poll=poll, by=chair)
    poll_unseal(poll=poll, by=dg, passphrase=PASSPHRASE)
    return poll_announce(poll=poll, by=dg)


def test_absolute_majority_appoints_in_the_first_round(
    appointment, chair, director_general, members, keys
):
    poll = run_round(
        appointment,
        chair,
        director_general,
        members,
        ["Alice"] * 5 + ["Bruno"] * 2 + ["blank"] * 2,
    )
    assert poll.decision == "appointed" and poll.winner.name == "Alice"
    # Blank ballots are not valid votes: 5 of 7 valid is the majority.
    assert poll.tally["blank"] == 2 and poll.tally["required"] == 4
    with pytest.raises(Refusal) as exc:
        poll_open(item=appointment, by=chair)
    assert exc.value.message == ALREADY_DECIDED


def test_runoff_between_the_two_leaders_then_tie_to_the_older(
    appointment, chair, director_general, members, keys
):
    first = run_round(
        appointment,
        chair,
        director_general,
        members,
        ["Alice"] * 4 + ["Bruno"] * 3 + ["Chloé"] * 2,
    )
    assert first.decision == "runoff"
    second = poll_open(item=appointment, by=chair)
    assert second.round_number == 2 and second.previous_round == first
    assert {c.name for c in second.candidates.all()} == {"Alice", "Bruno"}
    # Chloé is not on the run-off ballot.
    chloe = Candidate.objects.get(name="Chloé")
    with pytest.raises(Refusal):
        secret_ballot_cast(poll=second, by=members[0], choice=f"c:{chloe.pk}")
    assert second.state == Poll.State.OPEN


def test_runoff_tie_goes_to_the_older_candidate(
    appointment, chair, director_general, members, keys
):
    run_round(
        appointment,
        chair,
        director_general,
        members,
        ["Alice"] * 4 + ["Bruno"] * 3 + ["Chloé"] * 2,
    )
    poll = run_round(
        appointment,
        chair,
        director_general,
        members,
        ["Alice"] * 4 + ["Bruno"] * 4 + ["blank"],
    )
    assert poll.decision == "appointed"
    assert poll.winner.name == "Bruno"  # born 1955, Alice 1985
    assert poll.tie_broken_by_age
    outcome = item_results(appointment.meeting)[appointment.pk]
    assert outcome.appointed == "Bruno" and outcome.secret
    assert [r.number for r in outcome.rounds] == [1, 2]
    assert outcome.rounds[0].counts == {"Alice": 4, "Bruno": 3, "Chloé": 2}
    assert outcome.rounds[1].counts == {"Alice": 4, "Bruno": 4}
    assert outcome.rounds[1].blank == 1
    with translation.override("en"):
        text = " ".join(outcome_wording(outcome))
    assert text == (
        "Secret ballot: 9 members took part. "
        "Round 1 — Alice: 4; Bruno: 3; Chloé: 2; Blank: 0; Invalid: 0. "
        "Round 2 — Alice: 4; Bruno: 4; Blank: 1; Invalid: 0. "
        "The votes are tied: Bruno, the older candidate, is appointed."
    )


def test_tie_for_second_place_sends_the_older_to_the_runoff(
    sitting, clerk, chair, director_general, members, keys
):
    item = make_item(sitting, kind=AgendaItem.Kind.APPOINTMENT)
    candidate_add(item=item, by=clerk, name="Lead", birth_date=YOUNG)
    candidate_add(item=item, by=clerk, name="Younger", birth_date=YOUNG)
    candidate_add(item=item, by=clerk, name="Elder", birth_date=OLD)
    poll = run_round(
        item,
        chair,
        director_general,
        members,
        ["Lead"] * 4 + ["Younger"] * 2 + ["Elder"] * 2 + ["blank"],
    )
    assert poll.decision == "runoff" and poll.tie_broken_by_age
    names = set(
        Candidate.objects.filter(pk__in=poll.tally["runoff"]).values_list(
            "name", flat=True
        )
    )
    assert names == {"Lead", "Elder"}


def test_no_next_round_before_the_announcement(
    appointment, chair, director_general, members, keys
):
    poll = poll_open(item=appointment, by=chair)
    poll_close(poll=poll, by=chair)
    with pytest.raises(Refusal) as exc:
        poll_open(item=appointment, by=chair)
    assert exc.value.message == RESULT_PENDING


def test_appointment_needs_candidates(sitting, chair, keys):
    item = make_item(sitting, kind=AgendaItem.Kind.APPOINTMENT)
    with pytest.raises(Refusal) as exc:
        poll_open(item=item, by=chair)
    assert exc.value.message == NO_CANDIDATES


def test_candidates_are_locked_once_the_ballot_opens(appointment, chair, clerk, keys):
    poll_open(item=appointment, by=chair)
    with pytest.raises(Refusal) as exc:
        candidate_add(item=appointment, by=clerk, name="Late")
    assert exc.value.message == CANDIDATES_LOCKED


def test_candidates_only_on_appointment_items(sitting, clerk):
    with pytest.raises(Refusal) as exc:
        candidate_add(item=make_item(sitting), by=clerk, name="X")
    assert exc.value.message == NOT_APPOINTMENT


@pytest.mark.parametrize("role", ["councillor", "director_general", "outsider"])
def test_only_clerk_or_chair_add_candidates(request, appointment, role):
    with pytest.raises(PermissionDenied):
        candidate_add(item=appointment, by=request.getfixturevalue(role), name="Y")


def test_candidate_birth_date_falls_back_to_the_person(appointment, councillor):
    candidate = Candidate.objects.create(
        item=appointment, name="Member", person=councillor
    )
    assert candidate.effective_birth_date == councillor.birth_date
