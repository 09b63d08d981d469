"""The demo council: complete, realistic, and the same however often it is seeded."""

import sys
from importlib import import_module
from io import StringIO
from types import SimpleNamespace

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command

from council import demo
from council.models import Body, Mandate, PoliticalGroup, User
from council.permissions import Action, can

pytestmark = pytest.mark.django_db

Role = Mandate.Role


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _counts() -> tuple[int, ...]:
    return (
        User.objects.count(),
        Body.objects.count(),
        PoliticalGroup.objects.count(),
        Mandate.objects.count(),
    )


def test_seed_demo_builds_the_council_and_prints_the_logins():
    output = _seed()
    body = Body.objects.get(slug="val-de-meuse")
    assert body.language == "fr"
    assert body.seats == 49
    in_office = Mandate.objects.in_office().filter(body=body)
    assert in_office.filter(role=Role.CHAIR).count() == 1
    assert in_office.filter(role=Role.COUNCILLOR).count() == 48
    assert body.members_in_office().count() == 49
    assert PoliticalGroup.objects.filter(body=body).count() == 5
    for group in PoliticalGroup.objects.filter(body=body):
        assert group.mandates.exists()
    assert in_office.voting().filter(group__isnull=True).count() == 0
    for role in (Role.DIRECTOR_GENERAL, Role.DEPUTY_DIRECTOR_GENERAL, Role.CLERK):
        assert in_office.filter(role=role).count() == 1
    admin = User.objects.get(is_administrator=True)
    assert admin.is_staff and not admin.is_superuser
    assert not admin.user_permissions.exists() and not admin.groups.exists()
    assert not admin.mandates.exists()
    assert can(admin, Action.MANAGE_COUNCIL, body)

    assert demo.DEMO_PASSWORD in output
    for role in ("Chair", "Councillor", "Director-general", "Deputy", "Clerk"):
        assert role in output
    for user in (
        in_office.get(role=Role.CHAIR).person,
        in_office.get(role=Role.DIRECTOR_GENERAL).person,
        in_office.get(role=Role.CLERK).person,
        admin,
    ):
        assert user.email in output
        assert user.check_password(demo.DEMO_PASSWORD)


def test_demo_addresses_are_verified_so_people_can_add_a_second_factor():
    _seed()
    people = User.objects.count()
    assert EmailAddress.objects.filter(verified=True, primary=True).count() == people
    assert not EmailAddress.objects.filter(verified=False).exists()


def test_seed_demo_twice_changes_nothing():
    _seed()
    before = _counts()
    emails = set(User.objects.values_list("email", flat=True))
    _seed()
    assert _counts() == before
    assert set(User.objects.values_list("email", flat=True)) == emails


def test_demo_people_have_realistic_distinct_names():
    _seed()
    members = list(Body.objects.get(slug="val-de-meuse").members_in_office())
    names = {(m.first_name, m.last_name) for m in members}
    assert len(names) == 49
    assert all(m.first_name and m.last_name and m.birth_date for m in members)


def test_seed_demo_points_to_the_site_address(settings):
    settings.SITE_URL = "http://127.0.0.1:8765"
    assert "Open http://127.0.0.1:8765/ and log in" in _seed()


# ---- every installed app's demo module, found -------------------------------


@pytest.fixture
def demo_apps(tmp_path, monkeypatch, settings):
    """Install extra apps written to a temporary folder: ``demo_apps(name=demo)``.

    ``demo`` is the source of the app's ``demo`` module, or None for an app
    without one. The council's own seed and the real apps' seeds are replaced
    by recorders: each seed appends its app's name to ``cast.seen``.
    """
    cast = SimpleNamespace(body=SimpleNamespace(name="Test council"), logins=[])
    cast.seen = []
    monkeypatch.setattr(demo, "seed", lambda: cast)
    for label in ("meetings", "voting", "minutes"):
        module = import_module(f"{label}.demo")
        monkeypatch.setattr(module, "seed", lambda c, label=label: c.seen.append(label))
    monkeypatch.syspath_prepend(str(tmp_path))
    written = []

    def install(**apps_and_demos):
        for name, source in apps_and_demos.items():
            package = tmp_path / name
            package.mkdir()
            (package / "__init__.py").write_text("")
            if source is not None:
                (package / "demo.py").write_text(source)
            written.append(name)
        settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, *apps_and_demos]
        return cast

    yield install
    for name in list(sys.modules):
        if name.split(".")[0] in written:
            del sys.modules[name]


RECORDING_DEMO = "def seed(cast):\n    cast.seen.append(__name__.split('.')[0])\n"


def test_each_installed_app_with_a_demo_module_adds_to_it_in_order(demo_apps):
    cast = demo_apps(demo_app_extra=RECORDING_DEMO)
    output = _seed()
    assert cast.seen == ["meetings", "voting", "minutes", "demo_app_extra"]
    assert "Demo council ready: Test council" in output


def test_an_app_without_a_demo_module_is_skipped(demo_apps):
    cast = demo_apps(demo_app_quiet=None, demo_app_after=RECORDING_DEMO)
    _seed()
    assert cast.seen == ["meetings", "voting", "minutes", "demo_app_after"]


def test_a_broken_import_inside_a_demo_module_is_not_swallowed(demo_apps):
    cast = demo_apps(
        demo_app_broken="import a_module_nobody_wrote\n\n" + RECORDING_DEMO,
        demo_app_after=RECORDING_DEMO,
    )
    with pytest.raises(ModuleNotFoundError) as raised:
        _seed()
    assert raised.value.name == "a_module_nobody_wrote"
    assert "demo_app_after" not in cast.seen
