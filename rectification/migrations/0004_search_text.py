import logging

from django.db import migrations, models, transaction
from django.db.models import OuterRef, Subquery, TextField, Value
from django.db.models.functions import Concat

logger = logging.getLogger(__name__)

# Trigram indexes for the keyword search (icontains is UPPER(col) LIKE UPPER('%word%') in
# Django's PostgreSQL backend, so the indexes are on UPPER(col)). PostgreSQL only.
TRIGRAM_INDEXES = {
    "item_search_text_trgm": "search_text",
    "item_measures_trgm": "measures",
}


def fill_search_text(apps, schema_editor):
    # The same UPDATE as RectificationItemQuerySet.sync_from_evaluation, on the historical models.
    Item = apps.get_model("rectification", "RectificationItem")
    Finding = apps.get_model("evaluations", "Finding")
    finding = Finding.objects.filter(recommendation__item=OuterRef("pk")).annotate(
        text=Concat(
            "result__project__name",
            Value("\n"),
            "title",
            Value("\n"),
            "body",
            Value("\n"),
            "recommendation__title",
            Value("\n"),
            "recommendation__body",
            output_field=TextField(),
        )
    )
    Item.objects.update(search_text=Subquery(finding.values("text")[:1]))


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name("rectification_rectificationitem")
    try:
        # pg_trgm ships with PostgreSQL; creating it needs the CREATE privilege on the
        # database. Without it the search still works, only without an index.
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception:  # noqa: BLE001 — any refusal means: no extension, no index
        logger.warning("pg_trgm is not available: the keyword search runs without an index")
        return
    for name, column in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
            f"USING gin (UPPER({schema_editor.quote_name(column)}) gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("rectification", "0003_ledger_order"),
    ]

    operations = [
        migrations.AddField(
            model_name="rectificationitem",
            name="search_text",
            field=models.TextField(
                blank=True, default="", editable=False, verbose_name="search text"
            ),
        ),
        migrations.RunPython(fill_search_text, migrations.RunPython.noop),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
