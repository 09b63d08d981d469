"""Create (or complete) the demo council, then let every installed app add to it."""

from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import module_has_submodule

from council import demo


class Command(BaseCommand):
    help = "Create (or complete) the demo council. Running it again changes nothing."

    def handle(self, *args, **options):
        cast = demo.seed()
        # Each app may add to the demo in a module ``<app>.demo`` with a
        # function ``seed(cast)``; they run in INSTALLED_APPS order, so each
        # finds what the apps it builds on have made. The council's own demo
        # module is the one that made the cast.
        for config in apps.get_app_configs():
            if config.name == "council":
                continue
            if module_has_submodule(config.module, "demo"):
                import_module(f"{config.name}.demo").seed(cast)
        self.stdout.write(self.style.SUCCESS(f"Demo council ready: {cast.body.name}"))
        self.stdout.write(f"Every demo account's password is: {demo.DEMO_PASSWORD}")
        for role, email in cast.logins:
            self.stdout.write(f"  {role:<26} {email}")
        self.stdout.write(f"Open {settings.SITE_URL}/ and log in with one of these.")
