"""Bind sealing keys and secret polls to POLL_KEY_SECRET.

The rows already there are bound as they stand when the upgrade runs: from
then on, a key written into the database by hand does not verify.
"""

from django.db import migrations, models

from voting.services.sealing import poll_key_tag, sealing_key_tag


def bind_existing(apps, schema_editor):
    SealingKey = apps.get_model("voting", "SealingKey")
    Poll = apps.get_model("voting", "Poll")
    PollKeySeal = apps.get_model("voting", "PollKeySeal")
    for key in SealingKey.objects.all():
        key.binding = sealing_key_tag(
            holder_id=key.holder_id, body_id=key.body_id, public_key=key.public_key
        )
        key.save(update_fields=["binding"])
    for poll in Poll.objects.filter(secret=True, public_key__isnull=False):
        seals = PollKeySeal.objects.filter(poll=poll).select_related("sealing_key")
        poll.key_binding = poll_key_tag(
            poll_id=poll.pk,
            public_key=poll.public_key,
            seals=[
                (
                    s.sealing_key.holder_id,
                    s.sealing_key.public_key,
                    s.sealed_private_key,
                )
                for s in seals
            ],
        )
        poll.save(update_fields=["key_binding"])


class Migration(migrations.Migration):
    dependencies = [
        ("voting", "0001_polls_ballots_sealing"),
    ]

    operations = [
        migrations.AddField(
            model_name="poll",
            name="key_alarm_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                null=True,
                verbose_name="key mismatch found at",
            ),
        ),
        migrations.AddField(
            model_name="poll",
            name="key_binding",
            field=models.CharField(
                blank=True,
                default="",
                editable=False,
                max_length=64,
                verbose_name="key binding",
            ),
        ),
        migrations.AddField(
            model_name="sealingkey",
            name="binding",
            field=models.CharField(
                blank=True,
                default="",
                editable=False,
                max_length=64,
                verbose_name="binding",
            ),
        ),
        migrations.RunPython(bind_existing, migrations.RunPython.noop),
    ]
