"""The audit trail is append-only in the database too, on PostgreSQL.

``Event.save()``/``delete()`` and the queryset already refuse changes in the application; this
trigger refuses them for everything else that can reach the table — raw SQL, a bulk tool, a
future bug — with SQLSTATE 42501 (insufficient_privilege). TRUNCATE is not covered by a row
trigger and stays the table owner's right: the application's database role should not own the
tables (docs/operations.md). SQLite, the embedded default, has no such trigger.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION rectification_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rectification_event is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Audit records are never changed or deleted.';
END;
$$;
DROP TRIGGER IF EXISTS rectification_event_append_only ON rectification_event;
CREATE TRIGGER rectification_event_append_only
    BEFORE UPDATE OR DELETE ON rectification_event
    FOR EACH ROW EXECUTE FUNCTION rectification_event_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS rectification_event_append_only ON rectification_event;
DROP FUNCTION IF EXISTS rectification_event_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("rectification", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger, elidable=False)]
