from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VotingConfig(AppConfig):
    name = "voting"
    verbose_name = _("Voting")

    def ready(self) -> None:
        # Imported here, not at the top: these modules import models, which
        # cannot load before the app registry is ready.
        from council.home import register_home_panel
        from meetings.live import register_sitting_panel, register_snapshot_part
        from voting.home import home_context
        from voting.live import Vote, vote_pace, vote_part, vote_view

        register_snapshot_part(
            "vote", vote_part, view=vote_view, schema=Vote, pace=vote_pace
        )
        register_sitting_panel("voting/_sitting_panel.html")
        register_home_panel("voting/_home_panel.html", home_context)
