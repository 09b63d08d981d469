from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MinutesConfig(AppConfig):
    name = "minutes"
    verbose_name = _("Minutes")

    def ready(self) -> None:
        # Imported here, not at the top: these modules import models, which
        # cannot load before the app registry is ready.
        from council.home import register_home_panel
        from council.tasks import register_worker_start
        from minutes.home import home_context
        from minutes.records import result_wording
        from voting.results import register_outcome_wording

        register_home_panel("minutes/_home_panel.html", home_context)
        # The voting pages word an outcome as the minutes do, without
        # voting importing the minutes.
        register_outcome_wording(result_wording)
        # A print job whose queued run was lost is queued again.
        register_worker_start("minutes.services.print_jobs_requeue_lost")
