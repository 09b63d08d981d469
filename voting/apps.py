from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VotingConfig(AppConfig):
    name = "voting"
    verbose_name = _("Voting")

    def ready(self) -> None:
        from council.home import register_home_panel
        from meetings.live import register_sitting_panel, register_snapshot_part
        from voting.home import home_context
        from voting.live import vote_snapshot

        register_snapshot_part("vote", vote_snapshot)
        register_sitting_panel("voting/_sitting_panel.html")
        register_home_panel("voting/_home_panel.html", home_context)
