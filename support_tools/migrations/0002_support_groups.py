from django.db import migrations


def create_groups(apps, schema_editor):
    from support_tools.permissions import sync_support_groups

    sync_support_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("support_tools", "0001_initial"),
        ("accounts", "0001_initial"),
        ("orgs", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("sites", "0002_alter_domain_unique"),
        ("oauth2_provider", "__latest__"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
