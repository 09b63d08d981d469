"""Only services announce a change to a sitting: nothing else calls ``sitting_changed``.

Views, consumers, forms, template tags and signals call services; a service
calls ``sitting_changed`` in its transaction. The test reads the apps' source.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("council", "meetings", "voting", "minutes")
NAME = "sitting_changed"


def allowed(path: Path) -> bool:
    """A service module, or the live engine that defines the entry point."""
    parts = path.parts
    return (
        "services" in parts[:-1]
        or path.name == "services.py"
        or parts[:2] == ("meetings", "live")
    )


def offences(tree: ast.AST, path: Path) -> list[str]:
    """Each call, import or mention of ``sitting_changed`` in one module."""
    found = []
    for node in ast.walk(tree):
        where = f"{path}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else None
            if isinstance(func, ast.Name):
                name = func.id
            if name == NAME:
                found.append(f"{where}: calls {NAME}")
        elif isinstance(node, ast.ImportFrom):
            if any(alias.name == NAME for alias in node.names):
                found.append(f"{where}: imports {NAME}")
        elif isinstance(node, ast.Constant) and node.value == NAME:
            found.append(f"{where}: names {NAME}")
    return found


def _modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" not in relative.parts:
                yield relative


def test_only_services_call_sitting_changed():
    found = []
    for path in _modules():
        if not allowed(path):
            found += offences(ast.parse((ROOT / path).read_text()), path)
    assert found == []


def test_services_do_call_it():
    callers = {
        path
        for path in _modules()
        if allowed(path) and offences(ast.parse((ROOT / path).read_text()), path)
    }
    assert {
        Path("meetings/services/sitting.py"),
        Path("meetings/services/meetings.py"),
        Path("voting/services/ballots.py"),
        Path("voting/services/polls.py"),
        Path("minutes/services.py"),
    } <= callers


def test_a_view_calling_it_is_caught():
    source = """
from meetings import live
from meetings.live import sitting_changed as announce

def view(request, meeting):
    live.sitting_changed(meeting)
    getattr(live, "sitting_changed")(meeting)
"""
    found = offences(ast.parse(source), Path("meetings/views_sitting.py"))
    assert [entry.split(": ", 1)[1] for entry in found] == [
        "imports sitting_changed",
        "calls sitting_changed",
        "names sitting_changed",
    ]
    assert not allowed(Path("meetings/views_sitting.py"))
    assert not allowed(Path("meetings/consumers.py"))
    assert allowed(Path("voting/services/ballots.py"))
    assert allowed(Path("minutes/services.py"))
