"""The audit trail's hash chain: append-only rows, verification, retirement of personal data."""

import io
import json
import os
import sqlite3
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from accounts.management.commands.retire_learner_audit import USER_OR_STRINGS
from accounts.selectors import USER_NOT_FOUND
from enrollments.linking.service import link_program_enrollments
from orgs.amc.services import ensure_amc_admin
from support_tools import audit_chain
from support_tools.actors import Actor
from support_tools.audit import support_action
from support_tools.audit_retire import RETIRED, retire_learner_audit
from support_tools.audit_verify import (
    BROKEN_DOWNGRADE,
    BROKEN_HASH,
    BROKEN_KEY,
    BROKEN_LINK,
    BROKEN_PERSONAL,
    BROKEN_PREV,
    BROKEN_RETIREMENT,
    BROKEN_SEQ,
    verify_audit_trail,
)
from support_tools.errors import SupportError
from support_tools.models import AppendOnlyError, SupportAction
from support_tools.permissions import ActionSpec
from tests.enrollments.factories import PROGRAM, ProgramEnrollmentFactory
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
TABLE = SupportAction._meta.db_table
KEY_A, KEY_B = "audit-key-a-0123456789abcdef", "audit-key-b-fedcba9876543210"


@pytest.fixture(autouse=True)
def no_key(settings):
    """Every test states its key: the machine's environment must not choose it."""
    settings.AUDIT_HMAC_KEY = ""
    settings.AUDIT_HMAC_OLD_KEYS = ""


@pytest.fixture
def ann():
    return UserFactory(username="annabel", email="Annabel.Lee@Example.com", first_name="Ann")


@pytest.fixture
def bob():
    return UserFactory(username="bobby-b", email="bob@example.org")


def make_rows(actor, ann):
    """Rows from real services: a change, a dry run, a refusal (the failure path), a note."""
    OrganizationFactory(short_name="acme", name="Acme University", email_domains=["example.com"])
    ensure_amc_admin(user="annabel.lee@example.com", organization="acme", actor=actor)
    ensure_amc_admin(user="annabel", organization="acme", actor=actor, dry_run=True)
    with pytest.raises(SupportError):
        ensure_amc_admin(user="nobody-here", organization="acme", actor=actor)
    with support_action(
        ActionSpec("demo", preview="auth.view_user"), actor=actor, inputs={"who": ann.email}
    ) as trail:
        trail.about(ann)
        trail.note(f"Keycloak: sessions of {ann.username} ended")
    return list(SupportAction.objects.order_by("seq"))


@pytest.fixture
def rows(system_actor, ann):
    return make_rows(system_actor, ann)


@contextmanager
def trigger_off():
    """What a superuser of the database can do: the PostgreSQL guard switched off."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = origin")


def raw(sql, params=()):
    with trigger_off(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def personal_text(row):
    return json.dumps([getattr(row, f) for f in audit_chain.PERSONAL_FIELDS]).casefold()


# --- A normal trail verifies -----------------------------------------------------------------


def test_rows_from_real_services_chain_and_verify(rows):
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == audit_chain.GENESIS_HASH
    assert all(b.prev_hash == a.row_hash for a, b in zip(rows, rows[1:], strict=False))
    assert {r.outcome for r in rows} >= {"changed", "failed"}
    assert any(r.dry_run for r in rows)
    report = verify_audit_trail()
    assert (report.ok, report.checked, report.broken_at) == (True, len(rows), None)
    assert report.head_hash == rows[-1].row_hash


def test_personal_data_is_hashed_only_through_its_digest(rows):
    row = rows[0]
    values = audit_chain.values_of(row)
    assert row.personal_digest == audit_chain.personal_digest(values, row.personal_salt, None)
    assert row.row_hash == audit_chain.row_hash(values, None)
    assert not set(audit_chain.PERSONAL_FIELDS) & set(audit_chain.CORE_FIELDS)
    assert "annabel" in personal_text(row)


def test_verification_streams_in_one_query(rows, django_assert_num_queries):
    with django_assert_num_queries(1):
        report = verify_audit_trail(chunk_size=2)
    assert report.ok and report.checked == len(rows)


def test_deleting_a_user_clears_their_links_and_the_trail_still_verifies(rows, ann):
    ann_id = ann.pk
    ann.delete()
    assert not SupportAction.objects.filter(subject_user__isnull=False).exists()
    assert SupportAction.objects.filter(subject_ref=ann_id).count() >= 2
    assert verify_audit_trail().ok


# --- Tampering through SQL is found ----------------------------------------------------------


def test_raw_update_of_a_hashed_field_names_the_row(rows):
    flip = "CASE WHEN outcome = 'failed' THEN 'ok' ELSE 'failed' END"
    raw(f"UPDATE {TABLE} SET outcome = {flip} WHERE id = %s", [rows[1].pk])
    report = verify_audit_trail()
    assert (report.ok, report.broken_at) == (False, rows[1].pk)
    assert report.reason == BROKEN_HASH.format(id=rows[1].pk)


def test_raw_update_of_personal_data_names_the_row(rows):
    raw(f"UPDATE {TABLE} SET error = 'nothing happened' WHERE id = %s", [rows[2].pk])
    report = verify_audit_trail()
    assert (report.ok, report.broken_at) == (False, rows[2].pk)
    assert report.reason == BROKEN_PERSONAL.format(id=rows[2].pk)


def test_raw_delete_of_a_middle_row_names_the_row_after_the_gap(rows):
    raw(f"DELETE FROM {TABLE} WHERE id = %s", [rows[1].pk])
    report = verify_audit_trail()
    assert (report.ok, report.broken_at) == (False, rows[2].pk)
    assert report.reason == BROKEN_SEQ.format(id=rows[2].pk, seq=3, expected=2)


def test_swapping_two_rows_names_the_first_row_out_of_place(rows):
    first, second = rows[1], rows[2]
    raw(f"UPDATE {TABLE} SET seq = 999999 WHERE id = %s", [first.pk])
    raw(f"UPDATE {TABLE} SET seq = %s WHERE id = %s", [first.seq, second.pk])
    raw(f"UPDATE {TABLE} SET seq = %s WHERE id = %s", [second.seq, first.pk])
    report = verify_audit_trail()
    assert (report.ok, report.broken_at) == (False, second.pk)
    assert report.reason == BROKEN_PREV.format(id=second.pk)


def _insert_copy(row, *, seq, prev_hash, **overrides):
    """A row inserted through SQL: a copy of `row` at `seq`."""
    columns = [f.column for f in SupportAction._meta.concrete_fields if f.column != "id"]
    values = {"seq": seq, "prev_hash": prev_hash, **overrides}
    select = ", ".join("%s" if c in values else c for c in columns)
    params = [values[c] for c in columns if c in values]
    raw(
        f"INSERT INTO {TABLE} ({', '.join(columns)}) SELECT {select} FROM {TABLE} WHERE id = %s",
        [*params, row.pk],
    )
    return SupportAction.objects.order_by("-id").values_list("id", flat=True).first()


def test_raw_insert_at_the_end_names_the_new_row(rows):
    last = rows[-1]
    new_id = _insert_copy(last, seq=last.seq + 1, prev_hash=last.row_hash)
    report = verify_audit_trail()
    assert (report.ok, report.checked, report.broken_at) == (False, len(rows) + 1, new_id)
    assert report.reason == BROKEN_HASH.format(id=new_id)


def test_relinking_a_row_to_another_user_is_found(rows, bob):
    row = next(r for r in rows if r.subject_user_id)
    raw(f"UPDATE {TABLE} SET subject_user_id = %s WHERE id = %s", [bob.pk, row.pk])
    report = verify_audit_trail()
    assert (report.ok, report.broken_at) == (False, row.pk)
    assert report.reason == BROKEN_LINK.format(id=row.pk)


# --- The ORM refuses changes -----------------------------------------------------------------


def test_the_orm_refuses_updates_and_deletes(rows):
    row, outcome = rows[1], rows[1].outcome
    with pytest.raises(AppendOnlyError):
        SupportAction.objects.filter(pk=row.pk).update(outcome="failed")
    with pytest.raises(AppendOnlyError):
        SupportAction.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        SupportAction.objects.bulk_update([row], ["outcome"])
    with pytest.raises(AppendOnlyError):
        SupportAction.objects.bulk_create([SupportAction(action="x", outcome="ok")])
    with pytest.raises(AppendOnlyError):
        row.delete()
    row.outcome = "failed"
    with pytest.raises(AppendOnlyError):
        row.save()
    copy = SupportAction(pk=rows[0].pk, action="forged", outcome="ok", actor_label="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()  # an insert, never an update of the row with that id
    assert SupportAction.objects.count() == len(rows)
    assert SupportAction.objects.get(pk=row.pk).outcome == outcome
    assert verify_audit_trail().ok


@pytest.mark.postgres
def test_the_postgresql_trigger_refuses_raw_updates_and_deletes(rows, ann):
    row = rows[1]
    unlinked = next(r for r in rows if r.subject_user_id is None)
    statements = [
        (f"UPDATE {TABLE} SET outcome = 'ok' WHERE id = %s", [row.pk]),
        (f"UPDATE {TABLE} SET inputs = '{{}}' WHERE id = %s", [row.pk]),
        (f"UPDATE {TABLE} SET subject_user_id = %s WHERE id = %s", [ann.pk, unlinked.pk]),
        (f"DELETE FROM {TABLE} WHERE id = %s", [row.pk]),
        (f"DELETE FROM {TABLE}", []),
    ]
    for sql, params in statements:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            connection.cursor().execute(sql, params)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('support_tools.allow_retire', 'on', true)")
        # Retirement's escape hatch opens the personal columns only.
        cursor.execute(f"UPDATE {TABLE} SET error = 'x' WHERE id = %s", [row.pk])
        with pytest.raises(DatabaseError, match="hashed columns"), transaction.atomic():
            cursor.execute(f"UPDATE {TABLE} SET outcome = 'ok' WHERE id = %s", [row.pk])
        transaction.set_rollback(True)
    # Deleting a user sets its links to NULL: the one change the trigger lets through.
    ann.delete()
    assert SupportAction.objects.count() == len(rows) and verify_audit_trail().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_leave_one_valid_chain():
    writers, per_writer = 4, 10
    barrier = threading.Barrier(writers)
    errors = []

    def write(n):
        try:
            barrier.wait()
            for i in range(per_writer):
                with support_action(
                    ActionSpec(f"race-{n}", preview="auth.view_user"),
                    actor=Actor.system("race"),
                    inputs={"i": i},
                ):
                    pass
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    seqs = list(SupportAction.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, writers * per_writer + 1))
    report = verify_audit_trail()
    assert (report.ok, report.checked) == (True, writers * per_writer)


# --- Keys --------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", KEY_A])
def test_rows_verify_with_and_without_a_key(settings, system_actor, ann, key):
    settings.AUDIT_HMAC_KEY = key
    rows = make_rows(system_actor, ann)
    expected_id = audit_chain.key_id_of(key) if key else ""
    assert {r.key_id for r in rows} == {expected_id}
    plain = audit_chain.row_hash(audit_chain.values_of(rows[0]), None)
    assert (plain == rows[0].row_hash) is (not key)
    assert verify_audit_trail().ok


def test_the_key_may_come_from_the_environment(settings, monkeypatch, system_actor):
    del settings.AUDIT_HMAC_KEY
    monkeypatch.setenv("AUDIT_HMAC_KEY", KEY_A)
    with support_action(
        ActionSpec("demo", preview="auth.view_user"), actor=system_actor, inputs={}
    ):
        pass
    assert SupportAction.objects.get().key_id == audit_chain.key_id_of(KEY_A)
    assert verify_audit_trail().ok
    monkeypatch.delenv("AUDIT_HMAC_KEY")
    assert not verify_audit_trail().ok


def test_a_rotated_key_verifies_while_the_old_key_is_kept(settings, system_actor, ann):
    settings.AUDIT_HMAC_KEY = KEY_A
    old_rows = make_rows(system_actor, ann)
    settings.AUDIT_HMAC_KEY, settings.AUDIT_HMAC_OLD_KEYS = KEY_B, KEY_A
    with support_action(
        ActionSpec("after-rotation", preview="auth.view_user"), actor=system_actor, inputs={}
    ):
        pass
    new_row = SupportAction.objects.order_by("-seq").first()
    assert new_row.key_id == audit_chain.key_id_of(KEY_B)
    assert new_row.prev_hash == old_rows[-1].row_hash
    assert verify_audit_trail().ok
    settings.AUDIT_HMAC_OLD_KEYS = ""
    report = verify_audit_trail()
    assert (report.ok, report.broken_at) == (False, old_rows[0].pk)
    assert report.reason == BROKEN_KEY.format(
        id=old_rows[0].pk,
        setting=audit_chain.OLD_KEYS_SETTING,
        key_id=audit_chain.key_id_of(KEY_A),
    )


def test_with_a_key_a_row_forged_without_it_is_found(settings, system_actor, ann):
    settings.AUDIT_HMAC_KEY = KEY_A
    rows = make_rows(system_actor, ann)
    last = rows[-1]
    # The forger knows the scheme but not the key: a perfect plain SHA-256 row.
    forged = SupportAction.objects.get(pk=last.pk)
    audit_chain.seal(forged, seq=last.seq + 1, prev_hash=last.row_hash, key_id="", key=None)
    new_id = _insert_copy(
        last,
        seq=forged.seq,
        prev_hash=forged.prev_hash,
        key_id="",
        row_hash=forged.row_hash,
        personal_digest=forged.personal_digest,
    )
    report = verify_audit_trail()
    assert (report.ok, report.broken_at) == (False, new_id)
    assert report.reason == BROKEN_DOWNGRADE.format(id=new_id)
    # ... or a guessed key under the right key id.
    raw(f"DELETE FROM {TABLE} WHERE id = %s", [new_id])
    real_id = audit_chain.key_id_of(KEY_A)
    audit_chain.seal(forged, seq=last.seq + 1, prev_hash=last.row_hash, key_id=real_id, key="x")
    new_id = _insert_copy(
        last,
        seq=forged.seq,
        prev_hash=forged.prev_hash,
        row_hash=forged.row_hash,
        personal_digest=forged.personal_digest,
    )
    assert verify_audit_trail().broken_at == new_id


# --- Retirement --------------------------------------------------------------------------------


@pytest.fixture
def learner_rows(system_actor, ann, bob):
    """Rows about ann: her own actions and a link sheet that names her and bob."""
    rows = make_rows(system_actor, ann)
    ProgramEnrollmentFactory(external_user_key="ACME-0001")
    ProgramEnrollmentFactory(external_user_key="ACME-0002")
    link_program_enrollments(
        program_uuid=PROGRAM,
        pairs=[["ACME-0001", "annabel"], ["ACME-0002", "bobby-b"]],
        actor=system_actor,
    )
    with support_action(
        ActionSpec("demo", preview="auth.view_user"), actor=system_actor, inputs={"user": bob.email}
    ) as trail:
        trail.about(bob)
    return [*rows, *SupportAction.objects.filter(seq__gt=rows[-1].seq).order_by("seq")]


def _mentions(row, *needles):
    text = personal_text(row)
    return any(n.casefold() in text for n in needles)


ANN = ("annabel", "annabel.lee@example.com", "acme-0001")


def test_retirement_removes_the_learner_from_every_row_and_the_chain_verifies(learner_rows, ann):
    about_ann = [r for r in learner_rows if _mentions(r, *ANN)]
    assert len(about_ann) >= 4
    out = io.StringIO()
    call_command("retire_learner_audit", "--user", "ANNABEL.lee@example.com", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data == {"changed": True, "dry_run": False, "rows": len(about_ann), "identifiers": 3}
    after = list(SupportAction.objects.order_by("seq"))
    assert not any(_mentions(r, *ANN) for r in after)
    assert any(RETIRED in personal_text(r) for r in after)
    link_row = next(r for r in after if r.action == "link_program_enrollments")
    assert _mentions(link_row, "bobby-b", "acme-0002")  # bob's data stays
    retirement = after[-1]
    assert retirement.action == audit_chain.RETIRE_ACTION and retirement.subject_user == ann
    assert [(r.pk, r.row_hash) for r in after[:-1]] == [(r.pk, r.row_hash) for r in learner_rows]
    report = verify_audit_trail()
    assert (report.ok, report.checked) == (True, len(learner_rows) + 1)
    again = retire_learner_audit(user=ann, actor=Actor.system("t"))
    assert not again.changed and verify_audit_trail().ok


def test_a_dry_run_retires_nothing(learner_rows, ann):
    result = retire_learner_audit(user=ann, actor=Actor.system("t"), dry_run=True)
    assert result.changed and result.dry_run
    kept = SupportAction.objects.filter(seq__lte=len(learner_rows)).order_by("seq")
    assert [personal_text(r) for r in kept] == [personal_text(r) for r in learner_rows]
    assert SupportAction.objects.order_by("-seq").first().dry_run
    assert verify_audit_trail().ok


def test_a_deleted_learner_is_retired_by_username_and_email(learner_rows, ann):
    ann.delete()
    out = io.StringIO()
    call_command(
        "retire_learner_audit",
        "--username",
        "annabel",
        "--email",
        "annabel.lee@EXAMPLE.com",
        "--json",
        stdout=out,
    )
    assert json.loads(out.getvalue())["changed"] is True
    assert not any(_mentions(r, *ANN) for r in SupportAction.objects.all())
    assert verify_audit_trail().ok


def test_retirements_of_two_learners_sharing_a_row_chain_up(learner_rows, ann, bob):
    retire_learner_audit(user=ann, actor=Actor.system("t"))
    retire_learner_audit(user=bob, actor=Actor.system("t"))
    link_row = SupportAction.objects.get(action="link_program_enrollments")
    assert not _mentions(link_row, *ANN, "bobby-b", "acme-0002")
    assert verify_audit_trail().ok


def test_altering_a_retired_row_is_found(learner_rows, ann):
    retire_learner_audit(user=ann, actor=Actor.system("t"))
    row = next(r for r in learner_rows if _mentions(r, *ANN))
    raw(f"UPDATE {TABLE} SET error = 'rewritten' WHERE id = %s", [row.pk])
    report = verify_audit_trail()
    assert (report.ok, report.broken_at) == (False, row.pk)
    assert report.reason == BROKEN_RETIREMENT.format(id=row.pk)


def test_a_retirement_does_not_launder_an_earlier_alteration(learner_rows, ann):
    row = next(r for r in learner_rows if _mentions(r, *ANN))
    raw(f"UPDATE {TABLE} SET error = 'rewritten' WHERE id = %s", [row.pk])
    retire_learner_audit(user=ann, actor=Actor.system("t"))
    assert verify_audit_trail().broken_at == row.pk


# --- The commands ------------------------------------------------------------------------------


def test_verify_command_json_and_exit_codes(rows):
    out = io.StringIO()
    call_command("verify_audit_trail", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"ok": True, "checked": len(rows), "broken_at": None}
    out = io.StringIO()
    call_command("verify_audit_trail", stdout=out)
    assert len(out.getvalue().strip().splitlines()) == 1
    assert out.getvalue().startswith("OK:")
    raw(f"DELETE FROM {TABLE} WHERE id = %s", [rows[0].pk])
    out = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit_trail", "--json", stdout=out)
    assert failure.value.returncode == 1
    assert json.loads(out.getvalue()) == {
        "ok": False,
        "checked": len(rows) - 1,
        "broken_at": rows[1].pk,
    }
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_audit_trail", stdout=out)
    assert out.getvalue().strip().splitlines() == [out.getvalue().strip()]
    assert out.getvalue().startswith(f"BROKEN at row {rows[1].pk}")


def test_retire_command_refuses_bad_input(ann):
    with pytest.raises(CommandError, match="--username/--email"):
        call_command("retire_learner_audit", "--json")
    with pytest.raises(CommandError) as both:
        call_command("retire_learner_audit", "--user", "annabel", "--username", "x")
    assert str(both.value) == USER_OR_STRINGS
    with pytest.raises(CommandError) as missing:
        call_command("retire_learner_audit", "--user", "gone@example.com")
    assert str(missing.value) == USER_NOT_FOUND.format(identifier="gone@example.com")
    assert not SupportAction.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_verify_process_exit_codes(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the subprocess uses its own SQLite file")
    db = tmp_path / "db.sqlite3"
    env = {**os.environ, "SUPPORT_TOOLS_INSECURE_DEV": "1", "DATABASE_URL": f"sqlite:///{db}"}
    env.pop("AUDIT_HMAC_KEY", None)

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
        )

    assert manage("migrate", "-v0").returncode == 0
    for _ in range(3):  # each refusal writes its audit row
        assert manage("diagnose_amc_user", "--user", "nobody", "--json").returncode == 1
    done = manage("verify_audit_trail", "--json")
    assert (done.returncode, json.loads(done.stdout)) == (
        0,
        {"ok": True, "checked": 3, "broken_at": None},
    )
    with sqlite3.connect(db) as conn:
        conn.execute(f"UPDATE {TABLE} SET outcome = 'ok' WHERE seq = 2")
        second = conn.execute(f"SELECT id FROM {TABLE} WHERE seq = 2").fetchone()[0]
    done = manage("verify_audit_trail", "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout) == {"ok": False, "checked": 3, "broken_at": second}
    assert len(done.stderr.strip().splitlines()) == 1


# --- Rows from before the chain --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_chains_existing_rows_in_id_order():
    before = [("support_tools", "0002_support_groups")]
    executor = MigrationExecutor(connection)
    # Back to where the test began (every app's last migration), not to a fixed name: the
    # tests after this one need the tables of later migrations.
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(before)
        executor.loader.build_graph()
        Old = executor.loader.project_state(before).apps.get_model("support_tools", "SupportAction")
        ids = [
            Old.objects.create(action=f"old-{n}", actor_label="x", door="admin", outcome="ok").pk
            for n in range(3)
        ]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
    chained = list(SupportAction.objects.order_by("seq").values_list("pk", "seq"))
    assert chained == [(pk, n) for n, pk in enumerate(ids, start=1)]
    assert verify_audit_trail().ok


def test_the_admin_shows_a_rows_place_in_the_chain(rows, admin_client):
    from django.urls import reverse

    url = reverse("admin:support_tools_supportaction_change", args=[rows[1].pk])
    page = admin_client.get(url).content.decode()
    assert rows[1].row_hash in page and rows[1].prev_hash in page
    assert admin_client.post(url, {"outcome": "ok"}).status_code == 403
