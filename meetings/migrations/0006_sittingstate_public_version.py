from django.db import migrations, models
from django.db.models import F


def public_as_published(apps, schema_editor):
    # Existing public clients hold the published version.
    SittingState = apps.get_model("meetings", "SittingState")
    SittingState.objects.update(public_version=F("published_version"))


class Migration(migrations.Migration):
    dependencies = [
        ("meetings", "0005_merge_lease_and_delivery"),
    ]

    operations = [
        migrations.AddField(
            model_name="sittingstate",
            name="public_version",
            field=models.PositiveBigIntegerField(
                default=0, verbose_name="public version"
            ),
        ),
        migrations.RunPython(public_as_published, migrations.RunPython.noop),
    ]
