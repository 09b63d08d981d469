"""Presence has one home: only meetings/register.py reads the register.

The sitting services write events; everything else asks the register. These
tests read the source of the apps and fail on a second derivation of
presence, or on a sitting's day taken in the server's time zone.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
APPS = ("council", "meetings", "voting", "minutes")
REGISTER = Path("meetings/register.py")
SITTING_SERVICES = Path("meetings/services/sitting.py")
# Writing an event is the sitting services' (and the demo's) business.
WRITES = {"create", "bulk_create"}
KINDS = {"ARRIVED", "LEFT", "EXCUSED"}
KIND_VALUES = {"arrived", "left", "excused"}


def _sources() -> list[Path]:
    files = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" not in relative.parts:
                files.append(relative)
    return files


def _is_event_kind(node: ast.AST) -> bool:
    """``AttendanceEvent.Kind.ARRIVED`` (or LEFT, EXCUSED), or its value."""
    if isinstance(node, ast.Constant):
        return node.value in KIND_VALUES
    return (
        isinstance(node, ast.Attribute)
        and node.attr in KINDS
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "Kind"
        and isinstance(node.value.value, ast.Name)
        and node.value.value.id == "AttendanceEvent"
    )


def _is_starts_at(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "starts_at"


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def offences(tree: ast.AST, path: Path) -> list[str]:
    """Every place in one module that reads presence or the day on its own."""
    found = []
    for node in ast.walk(tree):
        where = f"{path}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_is_event_kind(o) for o in operands):
                # The services compare the kind they are asked to write.
                others = [o for o in operands if not _is_event_kind(o)]
                writing = path == SITTING_SERVICES and all(
                    isinstance(o, ast.Name) and o.id == "kind" for o in others
                )
                if path != REGISTER and not writing:
                    found.append(f"{where}: compares an event's kind")
        elif isinstance(node, ast.Attribute):
            if node.attr == "attendance_events" and path != REGISTER:
                found.append(f"{where}: reads the events of a meeting")
            if (
                isinstance(node.value, ast.Attribute)
                and node.value.attr == "objects"
                and isinstance(node.value.value, ast.Name)
                and node.value.value.id == "AttendanceEvent"
                and node.attr not in WRITES
                and path != REGISTER
            ):
                found.append(f"{where}: AttendanceEvent.objects.{node.attr}")
        elif isinstance(node, ast.Call):
            name = _call_name(node)
            if name in {"localdate", "localtime"} and any(
                _is_starts_at(arg) for arg in node.args
            ):
                found.append(f"{where}: {name}() of a meeting's start")
            if (
                name == "members_in_office"
                and (node.args or node.keywords)
                and path.parts[0] != "council"
                and path != Path("meetings/models/core.py")
            ):
                found.append(f"{where}: members in office on a day of its own")
    return found


def test_presence_is_read_only_by_the_register():
    found = []
    for path in _sources():
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"), str(path))
        found += offences(tree, path)
    assert found == []


def test_templates_show_the_registers_answers_not_raw_events():
    comparison = re.compile(
        r"""==\s*["'](arrived|left|excused)["']|\.last\.[01]\b""", re.IGNORECASE
    )
    found = []
    for app in (*APPS, "templates"):
        for path in sorted((ROOT / app).rglob("*.html")):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if comparison.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}")
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        "last[0] == AttendanceEvent.Kind.ARRIVED",
        "kind != 'arrived'",
        "AttendanceEvent.objects.filter(meeting=m)",
        "meeting.attendance_events.all()",
        "timezone.localdate(meeting.starts_at)",
        "timezone.localtime(record.meeting.starts_at, timezone=zone).date()",
        "meeting.body.members_in_office(on=meeting.sitting_day)",
    ],
)
def test_the_check_catches_a_second_derivation(source):
    tree = ast.parse(source)
    assert offences(tree, Path("voting/views.py"))
    if "Kind" in source or "attendance_events" in source or "objects" in source:
        assert offences(tree, REGISTER) == []


def test_the_sitting_services_may_compare_only_the_kind_they_write():
    assert (
        offences(ast.parse("kind == AttendanceEvent.Kind.LEFT"), SITTING_SERVICES) == []
    )
    assert offences(ast.parse("last == AttendanceEvent.Kind.LEFT"), SITTING_SERVICES)
    assert (
        offences(
            ast.parse("AttendanceEvent.objects.create(kind=kind)"), SITTING_SERVICES
        )
        == []
    )
