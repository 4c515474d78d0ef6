from django.db import migrations

BATCH = 500
CHAIN_FIELDS = [
    "seq",
    "prev_hash",
    "row_hash",
    "key_id",
    "actor_ref",
    "subject_ref",
    "personal_salt",
    "personal_digest",
]


def chain_existing_rows(apps, schema_editor):
    """Rows written before the chain existed are chained in id order, with today's key."""
    from support_tools import audit_chain

    SupportAction = apps.get_model("support_tools", "SupportAction")
    rows = SupportAction.objects.using(schema_editor.connection.alias).order_by("id")
    key_id, key = audit_chain.current_key()
    prev_hash, batch = audit_chain.GENESIS_HASH, []
    for seq, row in enumerate(rows.iterator(chunk_size=BATCH), start=1):
        audit_chain.seal(row, seq=seq, prev_hash=prev_hash, key_id=key_id, key=key)
        prev_hash = row.row_hash
        batch.append(row)
        if len(batch) == BATCH:
            SupportAction.objects.bulk_update(batch, CHAIN_FIELDS)
            batch = []
    if batch:
        SupportAction.objects.bulk_update(batch, CHAIN_FIELDS)


class Migration(migrations.Migration):
    dependencies = [
        ("support_tools", "0003_audit_chain_fields"),
    ]

    operations = [migrations.RunPython(chain_existing_rows, migrations.RunPython.noop)]
