"""Mandates in office by date, and who may do what: every role against every action."""

import datetime
import pathlib
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from council.models import Mandate
from council.permissions import (
    Action,
    allowed,
    bodies_of,
    can,
    is_member,
    require,
    roles,
)
from tests.factories import make_body, make_mandate, make_user

Role = Mandate.Role
A = Action
D = datetime.date

pytestmark = pytest.mark.django_db

# Written out by hand from DESIGN.md, not copied from the module under test.
MEMBER = {
    A.VIEW_MEMBER_AREA,
    A.VIEW_CLOSED_SESSION,
    A.ATTEND,
    A.REQUEST_FLOOR,
    A.VOTE,
    A.SUBMIT_ITEM,
}
EXPECTED: dict[str, set[Action]] = {
    "councillor": MEMBER,
    "chair": MEMBER
    | {
        A.CHAIR_SITTING,
        A.OPEN_VOTE,
        A.RECORD_RECUSAL,
        A.MANAGE_CANDIDATES,
        A.ADOPT_MINUTES,
    },
    "director_general": {
        A.VIEW_MEMBER_AREA,
        A.VIEW_CLOSED_SESSION,
        A.VIEW_BIRTH_DATES,
        A.APPROVE_MINUTES,
        A.HOLD_SEALING_KEY,
        A.CONFIRM_KEYHOLDER,
        A.ANNOUNCE_RESULT,
        A.OVERSEE,
        A.VIEW_PREPARATION,
        A.VIEW_DRAFT_MINUTES,
        A.PLACE_MINUTES,
        A.VIEW_RECORDS,
    },
    "deputy_director_general": {
        A.VIEW_MEMBER_AREA,
        A.VIEW_CLOSED_SESSION,
        A.VIEW_BIRTH_DATES,
        A.HOLD_SEALING_KEY,
        A.OVERSEE,
        A.VIEW_PREPARATION,
        A.VIEW_DRAFT_MINUTES,
        A.VIEW_RECORDS,
    },
    "clerk": {
        A.VIEW_MEMBER_AREA,
        A.VIEW_CLOSED_SESSION,
        A.VIEW_BIRTH_DATES,
        A.PREPARE_MEETINGS,
        A.RECORD_ATTENDANCE,
        A.DRAFT_MINUTES,
        A.PRINT_RECORDS,
        A.RECORD_SIGNATURES,
        A.VIEW_PREPARATION,
        A.RECORD_RECUSAL,
        A.MANAGE_CANDIDATES,
        A.VIEW_DRAFT_MINUTES,
        A.PLACE_MINUTES,
        A.ADOPT_MINUTES,
        A.VIEW_RECORDS,
    },
    "administrator": {A.MANAGE_COUNCIL},
    "superuser": set(),
    "outsider": set(),
    "anonymous": set(),
}


def _person(who: str, cast, superuser):
    if who == "anonymous":
        return AnonymousUser()
    if who == "superuser":
        return superuser
    return cast[who]


@pytest.mark.parametrize("who", list(EXPECTED))
def test_every_role_against_every_action(who, cast, superuser, body):
    user = _person(who, cast, superuser)
    allowed = {action for action in Action if can(user, action, body)}
    assert allowed == EXPECTED[who]
    for action in Action:
        if action in allowed:
            require(user, action, body)
        else:
            with pytest.raises(PermissionDenied):
                require(user, action, body)


def test_every_action_is_in_the_table():
    granted = set().union(*EXPECTED.values())
    assert granted == set(Action)


# Each named combination, and the actions call sites used to join with ``or``:
# the named action must let in exactly the same people.
COMBINED: dict[Action, tuple[Action, ...]] = {
    A.VIEW_PREPARATION: (A.PREPARE_MEETINGS, A.OVERSEE),
    A.RECORD_RECUSAL: (A.RECORD_ATTENDANCE, A.CHAIR_SITTING),
    A.MANAGE_CANDIDATES: (A.PREPARE_MEETINGS, A.CHAIR_SITTING),
    A.VIEW_DRAFT_MINUTES: (A.DRAFT_MINUTES, A.APPROVE_MINUTES, A.OVERSEE),
    A.PLACE_MINUTES: (A.DRAFT_MINUTES, A.APPROVE_MINUTES),
    A.ADOPT_MINUTES: (A.DRAFT_MINUTES, A.CHAIR_SITTING),
    A.VIEW_RECORDS: (A.PRINT_RECORDS, A.OVERSEE),
}


@pytest.mark.parametrize("who", list(EXPECTED))
@pytest.mark.parametrize("action", list(COMBINED))
def test_named_combination_lets_in_whoever_one_of_its_parts_did(
    action, who, cast, superuser, body
):
    user = _person(who, cast, superuser)
    parts = COMBINED[action]
    assert can(user, action, body) == any(can(user, p, body) for p in parts)
    assert (action in EXPECTED[who]) == bool(EXPECTED[who] & set(parts))


def test_no_call_site_combines_two_actions_itself():
    """Combinations are named in the table, not spelled ``can(a) or can(b)``."""
    root = pathlib.Path(__file__).resolve().parents[2]
    joined = re.compile(
        r"can\([^()]*Action\.\w+[^()]*\) ?(or|and) ?\(? ?can\([^()]*Action\."
        r"|Action\.\w+, ?Action\."  # a list of actions, any of which will do
    )
    found = []
    for app in ("council", "meetings", "voting", "minutes"):
        for path in (root / app).rglob("*.py"):
            text = re.sub(r"\s+", " ", path.read_text())
            found += [
                f"{path.relative_to(root)}: {m[0]}" for m in joined.finditer(text)
            ]
    assert found == []


def test_allowed_names_every_action_for_templates(body, chair):
    may = allowed(chair, body)
    assert set(may) == {action.value for action in Action}
    assert may["chair_sitting"] and may[A.OPEN_VOTE]
    assert not may["print_records"]
    assert not any(allowed(AnonymousUser(), body).values())


def test_manage_council_is_asked_with_no_body(administrator, clerk):
    assert can(administrator, A.MANAGE_COUNCIL, None)
    assert not can(clerk, A.MANAGE_COUNCIL, None)
    # Every other action is held on a body: without one, nobody holds it.
    assert not any(can(clerk, a, None) for a in Action if a is not A.MANAGE_COUNCIL)


def test_ended_mandate_gives_nothing(body):
    former = make_user()
    make_mandate(former, body, Role.CHAIR, start=D(2018, 12, 3), end=D(2024, 12, 1))
    assert not any(can(former, action, body) for action in Action)
    assert can(former, A.CHAIR_SITTING, body, on=D(2020, 6, 1))


def test_mandate_on_another_body_gives_nothing(body):
    elsewhere = make_body()
    person = make_user()
    for role in Role:
        make_mandate(person, elsewhere, role)
    assert not any(can(person, action, body) for action in Action)
    assert can(person, A.VOTE, elsewhere)
    assert list(bodies_of(person)) == [elsewhere]


def test_superuser_and_staff_flags_give_no_role(body, superuser):
    # There is no staff flag to store: a superuser is the one who has it.
    assert superuser.is_staff
    for user in (superuser,):
        assert roles(user, body) == set()
        assert not any(can(user, action, body) for action in Action)


def test_administrator_manages_without_a_mandate_but_votes_nowhere(body, administrator):
    assert can(administrator, A.MANAGE_COUNCIL, body)
    assert not can(administrator, A.HOLD_SEALING_KEY, body)
    assert not can(administrator, A.VOTE, body)


def test_administrator_flag_alone_manages_and_anonymous_never(body):
    admin = make_user(is_administrator=True)
    assert can(admin, A.MANAGE_COUNCIL, body)
    assert not can(make_user(), A.MANAGE_COUNCIL, body)
    assert not can(AnonymousUser(), A.MANAGE_COUNCIL, body)


# ---- mandates in office by date ------------------------------------------------


@pytest.fixture
def dated(body):
    """Four councillors: a closed term, an open-ended one, one to come, one a day."""
    people = {name: make_user(last_name=name) for name in ("closed", "open", "future")}
    people["day"] = make_user(last_name="day")
    make_mandate(people["closed"], body, start=D(2025, 1, 10), end=D(2025, 3, 31))
    make_mandate(people["open"], body, start=D(2025, 2, 1))
    make_mandate(people["future"], body, start=D(2031, 1, 1))
    make_mandate(people["day"], body, start=D(2025, 2, 14), end=D(2025, 2, 14))
    return people


def _in_office(body, day):
    return {u.last_name for u in body.members_in_office(on=day)}


def test_mandate_counts_from_its_first_day(body, dated):
    assert _in_office(body, D(2025, 1, 9)) == set()
    assert _in_office(body, D(2025, 1, 10)) == {"closed"}


def test_mandate_counts_through_its_last_day(body, dated):
    assert "closed" in _in_office(body, D(2025, 3, 31))
    assert "closed" not in _in_office(body, D(2025, 4, 1))


def test_one_day_mandate(body, dated):
    assert "day" in _in_office(body, D(2025, 2, 14))
    assert "day" not in _in_office(body, D(2025, 2, 13))
    assert "day" not in _in_office(body, D(2025, 2, 15))


def test_open_ended_mandate_lasts(body, dated):
    assert "open" in _in_office(body, D(2025, 2, 1))
    assert "open" in _in_office(body, D(2040, 1, 1))
    assert "open" not in _in_office(body, D(2025, 1, 31))


def test_future_mandate_is_not_in_office_yet(body, dated):
    today = _in_office(body, None)
    assert today == {"open"}
    assert "future" in _in_office(body, D(2031, 1, 1))
    assert not dated["future"].mandates.get().is_in_office()
    assert not is_member(dated["future"], body)
    assert is_member(dated["future"], body, on=D(2031, 6, 1))


def test_staff_roles_are_not_members_in_office(body, director_general, clerk, chair):
    assert set(body.members_in_office()) == {chair}


def test_in_office_queryset_matches_is_in_office(body, dated):
    for day in (D(2025, 1, 9), D(2025, 2, 14), D(2025, 4, 1), D(2031, 1, 1)):
        from_query = set(Mandate.objects.in_office(on=day))
        from_method = {m for m in Mandate.objects.all() if m.is_in_office(day)}
        assert from_query == from_method


def test_mandate_cannot_end_before_it_starts(body):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_mandate(make_user(), body, start=D(2025, 5, 1), end=D(2025, 4, 30))


def test_group_of_another_body_is_refused(body, group):
    other = make_body()
    mandate = Mandate(person=make_user(), body=other, role=Role.COUNCILLOR)
    mandate.group = group
    mandate.start = D(2025, 1, 1)
    with pytest.raises(ValidationError):
        mandate.clean()
