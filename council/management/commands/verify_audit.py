from django.core.management.base import BaseCommand, CommandError

from council.audit import audit_verify_and_record


class Command(BaseCommand):
    help = (
        "Check the audit chain (hashes keyed by AUDIT_KEY, links, and the heads "
        "anchored in AUDIT_ANCHOR_DIR), record the result in it and anchor its "
        "new head; fail on any altered, deleted, reordered, forged or truncated "
        "entry."
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
        if report.entries:
            self.stdout.write(
                f"Head: entry {report.last_sequence}, {report.head_hash[:16]}; "
                f"{report.anchors_checked} anchored head(s) checked."
            )
