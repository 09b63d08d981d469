from django.core.management.base import BaseCommand, CommandError

from council.audit import audit_verify_and_record


class Command(BaseCommand):
    help = (
        "Check the audit hash chain and record the result in it; fail on any "
        "altered or reordered entry."
    )

    def handle(self, *args, **options):
        report = audit_verify_and_record(by=None)
        if not report.intact:
            for problem in report.problems:
                self.stderr.write(f"entry #{problem.sequence}: {problem.reason}")
            raise CommandError(
                f"The audit chain is broken in {len(report.problems)} place(s)."
            )
        self.stdout.write(
            self.style.SUCCESS(f"Audit chain intact: {report.entries} entries.")
        )
