"""Dependencies point one way: council <- meetings <- voting <- minutes.

Only the project wiring in ``council/`` (settings, env helpers, urls, asgi,
the channel layer) names the apps above it, and each of those modules says
in its docstring that it is wiring.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# From the bottom up: each app may import the ones before it, never after.
LAYERS = ["council", "meetings", "voting", "minutes"]

WIRING = {
    "council/settings.py",
    "council/env.py",
    "council/urls.py",
    "council/asgi.py",
    "council/channel_layer.py",
}


def imported_apps(source: str) -> list[tuple[int, str]]:
    """(line, top-level package) of every import in a module, at any depth.

    Imports inside functions, classes and ``if TYPE_CHECKING:`` blocks count,
    and so does ``import_module("x")`` or ``__import__("x")`` with a literal
    name. Relative imports stay inside their own package and are not listed.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
        elif (
            isinstance(node, ast.Call)
            and _called_name(node.func) in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and not node.args[0].value.startswith(".")
        ):
            found.append((node.lineno, node.args[0].value.split(".")[0]))
    return sorted(found)


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def modules_of(app: str) -> list[Path]:
    return sorted(
        path for path in (ROOT / app).rglob("*.py") if "__pycache__" not in path.parts
    )


def violations(app: str) -> list[str]:
    above = set(LAYERS[LAYERS.index(app) + 1 :])
    found = []
    for path in modules_of(app):
        relative = path.relative_to(ROOT).as_posix()
        if relative in WIRING:
            continue
        for line, name in imported_apps(path.read_text(encoding="utf-8")):
            if name in above:
                found.append(f"{relative}:{line} imports {name}")
    return found


@pytest.mark.parametrize("app", LAYERS)
def test_no_app_imports_an_app_above_it(app):
    assert modules_of(app), f"no modules found under {app}/"
    assert violations(app) == []


@pytest.mark.parametrize("module", sorted(WIRING))
def test_each_wiring_module_says_in_one_line_that_it_is_wiring(module):
    docstring = ast.get_docstring(ast.parse((ROOT / module).read_text("utf-8")))
    assert docstring, f"{module} has no docstring"
    assert "\n" not in docstring.strip(), f"{module}: one line, please"
    assert "wiring" in docstring.lower()


def test_the_wiring_is_what_names_the_apps_above():
    # If no wiring module named an app above, the list above would be stale.
    named = {
        name
        for module in WIRING
        for _, name in imported_apps((ROOT / module).read_text("utf-8"))
    }
    assert named & set(LAYERS[1:])


def test_imports_inside_functions_and_by_name_are_found():
    source = (
        "import os\n"
        "from . import models\n"
        "from .views import home\n"
        "def late():\n"
        "    from voting.models import Poll\n"
        "class Panel:\n"
        "    def build(self):\n"
        "        import minutes.records\n"
        "if TYPE_CHECKING:\n"
        "    from meetings import models\n"
        "module = importlib.import_module('voting.demo')\n"
        "other = __import__('minutes')\n"
        "mine = import_module('.demo', package='council')\n"
    )
    assert imported_apps(source) == [
        (1, "os"),
        (5, "voting"),
        (8, "minutes"),
        (10, "meetings"),
        (11, "voting"),
        (12, "minutes"),
    ]


def test_a_module_of_council_naming_an_app_above_is_reported(tmp_path, monkeypatch):
    (tmp_path / "council").mkdir()
    (tmp_path / "council" / "urls.py").write_text("import minutes.urls\n")
    (tmp_path / "council" / "home.py").write_text(
        "def panels():\n    from meetings.home import panel\n"
    )
    (tmp_path / "meetings").mkdir()
    (tmp_path / "meetings" / "live.py").write_text("from voting import results\n")
    (tmp_path / "voting").mkdir()
    (tmp_path / "voting" / "results.py").write_text("from meetings import models\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert violations("council") == ["council/home.py:2 imports meetings"]
    assert violations("meetings") == ["meetings/live.py:1 imports voting"]
    assert violations("voting") == []
