"""What the home page shows for each body: the foundation's part, and the apps'.

Apps that build on the council add a panel (upcoming sittings, votes to cast,
minutes to approve...) with ``register_home_panel(template, context)`` in their
``AppConfig.ready``. Each panel is included once per body, with ``body``,
``may`` (every action by name, from ``council.permissions.allowed``: a panel
shows what the person may do, never asks for role names), ``user`` and, as
``panel``, whatever ``context`` returned for that body. ``context(user,
bodies)`` is called once per page for all the bodies shown, so that a panel
costs a fixed number of queries however many bodies the person sits on.
"""

from collections.abc import Callable, Sequence

PanelContext = Callable[[object, Sequence], dict[int, dict]]

_PANELS: dict[str, PanelContext | None] = {}


def register_home_panel(template_name: str, context: PanelContext | None = None):
    _PANELS[template_name] = context


def panels_for(user, bodies: Sequence) -> dict[int, list[tuple[str, dict]]]:
    """Per body id, the panels to include with their extra context."""
    result: dict[int, list[tuple[str, dict]]] = {body.pk: [] for body in bodies}
    for template_name, context in _PANELS.items():
        extra = context(user, bodies) if context else {}
        for body in bodies:
            result[body.pk].append((template_name, extra.get(body.pk, {})))
    return result
