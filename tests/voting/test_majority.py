"""The majority rules, table-driven, every edge."""

import datetime

import pytest

from voting.majority import (
    Contender,
    Count,
    Decision,
    Motion,
    absolute_majority,
    appoint,
    decide,
    two_thirds,
)

A, R, V = Decision.ADOPTED, Decision.REJECTED, Decision.VOID


@pytest.mark.parametrize(
    ("yes", "no", "abstain", "blank", "invalid", "expected", "required"),
    [
        (1, 0, 0, 0, 0, A, 1),
        (0, 1, 0, 0, 0, R, 1),
        (5, 4, 0, 0, 0, A, 5),
        (4, 4, 0, 0, 0, R, 5),  # a tie rejects: no casting vote
        (4, 5, 0, 0, 0, R, 5),
        (2, 1, 30, 0, 0, A, 2),  # abstentions are not votes cast
        (1, 1, 30, 0, 0, R, 2),
        (3, 2, 0, 10, 10, A, 3),  # neither are blank or invalid ballots
        (0, 0, 9, 0, 0, V, 0),  # everyone abstains: void
        (0, 0, 0, 4, 3, V, 0),
        (0, 0, 0, 0, 0, V, 0),
        (25, 24, 0, 0, 0, A, 25),
        (24, 24, 1, 0, 0, R, 25),
        (0, 3, 1, 0, 0, R, 2),
        (3, 0, 0, 0, 0, A, 2),
    ],
)
def test_ordinary_majority(yes, no, abstain, blank, invalid, expected, required):
    outcome = decide(Count(yes, no, abstain, blank, invalid))
    assert outcome.decision == expected
    assert outcome.required == required


@pytest.mark.parametrize("preset", ["wallonia", "flanders"])
def test_presets_share_the_ordinary_rule(preset):
    assert decide(Count(3, 3), preset=preset).decision == R
    assert decide(Count(4, 3), preset=preset).decision == A


def test_unknown_preset_is_refused():
    with pytest.raises(ValueError, match="unknown rules preset"):
        decide(Count(1, 0), preset="brussels-2099")


@pytest.mark.parametrize(
    ("present", "expected"),
    [(0, 0), (1, 1), (2, 2), (3, 2), (4, 3), (5, 4), (6, 4), (9, 6), (10, 7), (49, 33)],
)
def test_two_thirds_rounds_up(present, expected):
    assert two_thirds(present) == expected


@pytest.mark.parametrize(
    ("cast", "expected"), [(0, 1), (1, 1), (2, 2), (3, 2), (4, 3), (49, 25), (50, 26)]
)
def test_absolute_majority(cast, expected):
    assert absolute_majority(cast) == expected


@pytest.mark.parametrize("motion", [Motion.URGENCY, Motion.CLOSED_SESSION])
@pytest.mark.parametrize(
    ("yes", "no", "abstain", "present", "expected", "required"),
    [
        (6, 3, 0, 9, A, 6),  # exactly two thirds of the present
        (5, 3, 1, 9, R, 6),  # absolute majority of votes cast is not enough
        (6, 0, 3, 9, A, 6),  # abstainers count among the present
        (5, 0, 4, 9, R, 6),
        (33, 16, 0, 49, A, 33),
        (32, 0, 17, 49, R, 33),
        (2, 1, 0, 3, A, 2),
        (1, 1, 0, 3, R, 2),
        (0, 0, 9, 9, V, 0),
    ],
)
def test_two_thirds_motions(motion, yes, no, abstain, present, expected, required):
    outcome = decide(Count(yes, no, abstain), motion=motion, present=present)
    assert outcome.decision == expected
    assert outcome.required == required


def test_two_thirds_motion_needs_the_number_present():
    with pytest.raises(ValueError):
        decide(Count(3, 1), motion=Motion.URGENCY)
    with pytest.raises(ValueError):
        decide(Count(3, 1), motion=Motion.URGENCY, present=3)


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        Count(yes=-1)


OLD = datetime.date(1950, 1, 1)
MID = datetime.date(1970, 1, 1)
YOUNG = datetime.date(1990, 1, 1)


def c(key, votes, born=MID):
    return Contender(key=key, name=f"Cand {key}", birth_date=born, votes=votes)


@pytest.mark.parametrize(
    ("contenders", "decision", "winner", "runoff", "by_age"),
    [
        ([c("a", 5), c("b", 4)], Decision.APPOINTED, "a", (), False),
        ([c("a", 5), c("b", 2), c("c", 2)], Decision.APPOINTED, "a", (), False),
        ([c("a", 4), c("b", 4)], Decision.RUNOFF, None, ("a", "b"), False),
        ([c("a", 4), c("b", 3), c("c", 2)], Decision.RUNOFF, None, ("a", "b"), False),
        # a tie for second place among several: the older goes through
        (
            [c("a", 4), c("b", 2, YOUNG), c("c", 2, OLD), c("d", 2)],
            Decision.RUNOFF,
            None,
            ("a", "c"),
            True,
        ),
        # a three-way tie for first: the two older go through
        (
            [c("a", 3, YOUNG), c("b", 3, OLD), c("c", 3, MID)],
            Decision.RUNOFF,
            None,
            ("b", "c"),
            True,
        ),
        ([c("a", 0), c("b", 0)], Decision.VOID, None, (), False),
        ([], Decision.VOID, None, (), False),
        ([c("a", 1)], Decision.APPOINTED, "a", (), False),
        ([c("a", 0)], Decision.VOID, None, (), False),
    ],
)
def test_appointment_first_round(contenders, decision, winner, runoff, by_age):
    outcome = appoint(contenders)
    assert outcome.decision == decision
    assert (outcome.winner.key if outcome.winner else None) == winner
    assert tuple(x.key for x in outcome.runoff) == runoff
    assert outcome.tie_broken_by_age is by_age


def test_single_candidate_with_any_valid_vote_has_the_majority():
    # Blank ballots are not valid votes: a lone candidate's votes are all of them.
    outcome = appoint([c("a", 2)])
    assert (outcome.decision, outcome.valid, outcome.required) == (
        Decision.APPOINTED,
        2,
        2,
    )


@pytest.mark.parametrize(
    ("a", "b", "winner", "by_age"),
    [
        (c("a", 5), c("b", 4), "a", False),
        (c("a", 4), c("b", 5), "b", False),
        (c("a", 4, YOUNG), c("b", 4, OLD), "b", True),  # tie: the older wins
        (c("a", 4, OLD), c("b", 4, YOUNG), "a", True),
        (c("a", 4, None), c("b", 4, YOUNG), "b", True),  # an unknown age loses
    ],
)
def test_appointment_runoff(a, b, winner, by_age):
    outcome = appoint([a, b], runoff=True)
    assert outcome.decision == Decision.APPOINTED
    assert outcome.winner.key == winner
    assert outcome.tie_broken_by_age is by_age


def test_runoff_with_no_valid_vote_is_void():
    assert appoint([c("a", 0), c("b", 0)], runoff=True).decision == Decision.VOID


def test_runoff_is_between_two():
    with pytest.raises(ValueError):
        appoint([c("a", 1), c("b", 1), c("c", 1)], runoff=True)


def test_duplicate_candidates_are_refused():
    with pytest.raises(ValueError):
        appoint([c("a", 1), c("a", 2)])


def test_valid_votes_exclude_blank():
    # 5 for A out of 9 valid is a majority whatever the blank ballots.
    outcome = appoint([c("a", 5), c("b", 4)])
    assert outcome.valid == 9
    assert outcome.required == 5
