"""What the home page shows for each body: the foundation's part, and the apps'.

Apps that build on the council add a panel (upcoming sittings, votes to cast,
minutes to approve...) with ``register_home_panel("meetings/home_panel.html")``
in their ``AppConfig.ready``. Each panel is included once per body, with
``body``, ``roles`` (set of role values held there) and ``user`` in context.
"""

_PANELS: list[str] = []


def register_home_panel(template_name: str) -> None:
    if template_name not in _PANELS:
        _PANELS.append(template_name)


def home_panels() -> list[str]:
    return list(_PANELS)
