from django.core.management.base import BaseCommand, CommandError

from voting.models import Poll, SealingKey
from voting.services.keys import poll_key_is_bound, sealing_key_is_bound


class Command(BaseCommand):
    help = (
        "Check every active sealing key and every secret poll's key and seals "
        "against POLL_KEY_SECRET; fail on any key written into the database "
        "without it, or any poll stopped for one."
    )

    def handle(self, *args, **options):
        problems = [
            f"sealing key #{key.pk} of {key.holder} ({key.body.slug}): "
            "does not match what the server recorded"
            for key in SealingKey.objects.filter(active=True).select_related(
                "holder", "body"
            )
            if not sealing_key_is_bound(key)
        ]
        polls = Poll.objects.filter(secret=True).select_related("item__meeting")
        checked = 0
        for poll in polls.iterator(chunk_size=200):
            checked += 1
            if poll.key_alarm_at is not None:
                problems.append(
                    f"poll #{poll.pk} ({poll.item}): stopped on "
                    f"{poll.key_alarm_at:%Y-%m-%d %H:%M}, its key was altered"
                )
            elif not poll_key_is_bound(poll):
                problems.append(
                    f"poll #{poll.pk} ({poll.item}): its key or seals do not "
                    "match what the server sealed"
                )
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} key(s) do not verify.")
        self.stdout.write(
            self.style.SUCCESS(f"Every key verifies: {checked} secret poll(s).")
        )
