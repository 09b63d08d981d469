"""What the home page shows for each body: the foundation's part, and the apps'.

Apps that build on the council add a panel (upcoming sittings, votes to cast,
minutes to approve...) with ``register_home_panel(template, context)`` in their
``AppConfig.ready``. Each panel is included once per body, with ``body``,
``may`` (every action by name, from ``council.permissions.allowed``: a panel
shows what the person may do, never asks for role names), ``user`` and, as
``panel``, whatever ``context`` returned for that body. ``context(user,
bodies)`` is called once per page for all the bodies shown, so that a panel
costs a fixed number of queries however many bodies the person sits on.
A panel registered with ``top=True`` (the way into a sitting about to sit) is
shown first on each body, above the person's tasks; its context has ``top``.
"""

from collections.abc import Callable, Sequence

PanelContext = Callable[[object, Sequence], dict[int, dict]]

_PANELS: dict[str, tuple[PanelContext | None, bool]] = {}


def register_home_panel(
    template_name: str, context: PanelContext | None = None, *, top: bool = False
):
    _PANELS[template_name] = (context, top)


def panels_for(user, bodies: Sequence) -> dict[int, list[tuple[str, dict]]]:
    """Per body id, the panels to include with their extra context."""
    result: dict[int, list[tuple[str, dict]]] = {body.pk: [] for body in bodies}
    # The top panels first, so that a page listing every panel in order
    # (the public home) shows them first too.
    for template_name, (context, top) in sorted(
        _PANELS.items(), key=lambda panel: not panel[1][1]
    ):
        extra = context(user, bodies) if context else {}
        for body in bodies:
            result[body.pk].append(
                (template_name, extra.get(body.pk, {}) | {"top": top})
            )
    return result
