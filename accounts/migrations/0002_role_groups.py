"""Create the four role groups. Their permissions are granted in code (accounts.roles), so the
groups carry none; evaluation staff additionally get is_staff for the back-office."""

from django.db import migrations

ROLE_GROUPS = ["评价管理员", "经办人", "负责人", "监督查看"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_GROUPS:
        Group.objects.get_or_create(name=name)


def remove_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=ROLE_GROUPS, user__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_groups, remove_groups)]
