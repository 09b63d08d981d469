from django.core.management.base import BaseCommand, CommandError

from council.audit import audit_verify
from council.models import AuditEntry


class Command(BaseCommand):
    help = "Check the audit hash chain; fail on any altered or reordered entry."

    def handle(self, *args, **options):
        problems = audit_verify()
        if problems:
            for problem in problems:
                self.stderr.write(f"entry #{problem.sequence}: {problem.reason}")
            raise CommandError(
                f"The audit chain is broken in {len(problems)} place(s)."
            )
        count = AuditEntry.objects.count()
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {count} entries."))
