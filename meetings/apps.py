from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("Meetings")

    def ready(self) -> None:
        # Imported here, not at the top: these modules import models, which
        # cannot load before the app registry is ready.
        from council.home import register_home_panel
        from meetings.home import home_context, ways_in_context

        register_home_panel("meetings/_home_ways_in.html", ways_in_context, top=True)
        register_home_panel("meetings/_home_links.html", home_context)
