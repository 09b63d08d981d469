"""Live connections become leases: the serving process and an expiry.

Rows left by the earlier scheme name no process and never expire; they are
the stale presence this change removes, so they are dropped rather than kept.
"""

import django.utils.timezone
from django.db import migrations, models


def drop_unleased(apps, schema_editor):
    apps.get_model("meetings", "LiveConnection").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("meetings", "0003_merge_0002_live_sitting_0002_preparation"),
    ]

    operations = [
        migrations.RunPython(drop_unleased, migrations.RunPython.noop),
        migrations.AddField(
            model_name="liveconnection",
            name="server",
            field=models.CharField(
                default="", max_length=200, verbose_name="server process"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="liveconnection",
            name="boot",
            field=models.CharField(
                default="", max_length=32, verbose_name="process start token"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="liveconnection",
            name="expires_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, verbose_name="expires at"
            ),
            preserve_default=False,
        ),
        migrations.AddIndex(
            model_name="liveconnection",
            index=models.Index(
                fields=["server", "boot"], name="meetings_li_server_290c65_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="liveconnection",
            index=models.Index(
                fields=["expires_at"], name="meetings_li_expires_169f1d_idx"
            ),
        ),
    ]
