from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


def sqlite_secure_delete(sender, connection, **kwargs) -> None:
    """Deleted rows are overwritten with zeros on SQLite, not left in free pages.

    Closing a secret poll deletes its ballots and participations and writes
    them again in random orders; the deleted copies keep the casting order.
    """
    if connection.vendor == "sqlite":
        # On the driver's connection, as Django's own connection pragmas:
        # not one of the queries a request makes.
        connection.connection.execute("PRAGMA secure_delete = ON")


class VotingConfig(AppConfig):
    name = "voting"
    verbose_name = _("Voting")

    def ready(self) -> None:
        connection_created.connect(sqlite_secure_delete, dispatch_uid="secure_delete")
        # Imported here, not at the top: these modules import models, which
        # cannot load before the app registry is ready.
        from council.home import register_home_panel
        from meetings.live import register_sitting_panel, register_snapshot_part
        from meetings.open_votes import register_open_votes
        from voting.home import home_context
        from voting.live import Vote, vote_pace, vote_part, vote_view
        from voting.services.closing import open_votes_close, open_votes_of

        register_snapshot_part(
            "vote", vote_part, view=vote_view, schema=Vote, pace=vote_pace
        )
        register_sitting_panel("voting/_sitting_panel.html")
        register_home_panel("voting/_home_panel.html", home_context)
        register_open_votes(list_open=open_votes_of, close=open_votes_close)
