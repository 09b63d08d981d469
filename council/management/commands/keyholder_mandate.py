import datetime

from django.core.management.base import BaseCommand, CommandError

from council.keyholders import NEEDS_CONFIRMATION
from council.models import Body, User
from council.permissions import KEYHOLDER_ROLES
from council.refusals import Refusal
from council.services import keyholder_mandate_create, keyholder_mandate_end


def _date(raw: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError as exc:
        raise CommandError(f"{raw!r} is not a date (YYYY-MM-DD).") from exc


class Command(BaseCommand):
    help = (
        "Create or end a director-general or deputy mandate, the keyholders of "
        "sealed ballots; the only way to make one (the admin shows them "
        "read-only). Audited as done by the command."
    )

    def add_arguments(self, parser):
        parser.add_argument("operation", choices=["create", "end"])
        parser.add_argument("--email", required=True, help="the person's address")
        parser.add_argument("--body", required=True, help="the body's slug")
        parser.add_argument("--role", required=True, choices=sorted(KEYHOLDER_ROLES))
        parser.add_argument(
            "--date", type=_date, default=None, help="start or end (default: today)"
        )

    def handle(self, *args, operation, email, body, role, date, **options):
        try:
            person = User.objects.get(email=email.strip().lower())
        except User.DoesNotExist as exc:
            raise CommandError(f"Nobody has the address {email!r}.") from exc
        try:
            council = Body.objects.get(slug=body)
        except Body.DoesNotExist as exc:
            raise CommandError(f"No body has the slug {body!r}.") from exc
        try:
            if operation == "create":
                mandate = keyholder_mandate_create(
                    person=person, body=council, role=role, start=date
                )
            else:
                mandate = keyholder_mandate_end(
                    person=person, body=council, role=role, end=date
                )
        except Refusal as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"{operation}: {mandate}"))
        if operation == "create" and role in NEEDS_CONFIRMATION:
            self.stdout.write(
                "It counts once the director-general confirms it in the "
                "application (home page, or /bodies/<slug>/keyholders/confirm/)."
            )
