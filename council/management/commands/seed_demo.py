from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand

from council import demo

# Each app may add to the demo in a module ``<app>.demo`` with a function
# ``seed(cast)``; they run in INSTALLED_APPS order, so each finds what the
# apps it builds on have made.
DEMO_APPS = ["meetings", "voting", "minutes"]


class Command(BaseCommand):
    help = "Create (or complete) the demo council. Running it again changes nothing."

    def handle(self, *args, **options):
        cast = demo.seed()
        for label in DEMO_APPS:
            if not apps.is_installed(label):
                continue
            try:
                module = import_module(f"{label}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{label}.demo":
                    raise
                continue
            module.seed(cast)
        self.stdout.write(self.style.SUCCESS(f"Demo council ready: {cast.body.name}"))
        self.stdout.write(f"Every demo account's password is: {demo.DEMO_PASSWORD}")
        for role, email in cast.logins:
            self.stdout.write(f"  {role:<26} {email}")
        self.stdout.write(f"Open {settings.SITE_URL}/ and log in with one of these.")
