from django.db import migrations, models

TABLE = "support_tools_supportaction"
# The hashed columns never change; personal columns change only with the retirement's
# SET LOCAL flag; a user link may only become NULL (Django's SET_NULL when a user is deleted).
CREATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '{TABLE} is append-only: DELETE refused'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (NEW.id, NEW.seq, NEW.prev_hash, NEW.row_hash, NEW.key_id, NEW.created_at, NEW.door,
        NEW.action, NEW.target_type, NEW.target_id, NEW.dry_run, NEW.outcome, NEW.actor_ref,
        NEW.subject_ref, NEW.personal_digest)
       IS DISTINCT FROM
       (OLD.id, OLD.seq, OLD.prev_hash, OLD.row_hash, OLD.key_id, OLD.created_at, OLD.door,
        OLD.action, OLD.target_type, OLD.target_id, OLD.dry_run, OLD.outcome, OLD.actor_ref,
        OLD.subject_ref, OLD.personal_digest) THEN
        RAISE EXCEPTION '{TABLE} is append-only: its hashed columns never change'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (NEW.actor_id IS NOT NULL AND NEW.actor_id IS DISTINCT FROM OLD.actor_id)
       OR (NEW.subject_user_id IS NOT NULL
           AND NEW.subject_user_id IS DISTINCT FROM OLD.subject_user_id) THEN
        RAISE EXCEPTION '{TABLE} is append-only: a user link may only be cleared'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF coalesce(current_setting('support_tools.allow_retire', true), '') <> 'on'
       AND (NEW.actor_label, NEW.target_label, NEW.inputs, NEW.changes, NEW.result, NEW.error,
            NEW.personal_salt)
           IS DISTINCT FROM
           (OLD.actor_label, OLD.target_label, OLD.inputs, OLD.changes, OLD.result, OLD.error,
            OLD.personal_salt) THEN
        RAISE EXCEPTION '{TABLE} is append-only: personal data changes only by retirement'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$
"""
CREATE_TRIGGER = f"""
CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only()
"""
CREATE = [CREATE_FUNCTION, CREATE_TRIGGER]
DROP = [
    f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {TABLE}_append_only()",
]


def _on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("support_tools", "0004_audit_chain_backfill"),
    ]

    operations = [
        migrations.AlterField(
            model_name="supportaction",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, unique=True),
        ),
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP)),
    ]
