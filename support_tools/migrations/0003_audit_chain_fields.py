import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    """The chain's columns; `seq` stays nullable until 0004 has chained the existing rows."""

    dependencies = [
        ("support_tools", "0002_support_groups"),
    ]

    operations = [
        migrations.AlterField(
            model_name="supportaction",
            name="created_at",
            field=models.DateTimeField(
                db_index=True, default=django.utils.timezone.now, editable=False
            ),
        ),
        migrations.AddField(
            model_name="supportaction",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, null=True, unique=True),
        ),
        migrations.AddField(
            model_name="supportaction",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="supportaction",
            name="row_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="supportaction",
            name="key_id",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="The HMAC key's id; empty: SHA-256.",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="supportaction",
            name="actor_ref",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="supportaction",
            name="subject_ref",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="supportaction",
            name="personal_salt",
            field=models.CharField(blank=True, editable=False, max_length=32),
        ),
        migrations.AddField(
            model_name="supportaction",
            name="personal_digest",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
    ]
