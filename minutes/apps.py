from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MinutesConfig(AppConfig):
    name = "minutes"
    verbose_name = _("Minutes")

    def ready(self) -> None:
        from council.home import register_home_panel
        from minutes.home import home_context

        register_home_panel("minutes/_home_panel.html", home_context)
