from django.conf import settings
from django.db import models, router, transaction
from django.utils import timezone

from support_tools import audit_chain

# One permission per mutating action (shared/CONTRACT.md). Diagnoses need view access only.
ACTION_PERMISSIONS = [
    ("run_ensure_amc_token", "Can ensure a user's AMC OAuth tokens"),
    ("run_ensure_amc_admin", "Can make a user an AMC admin of an organization"),
    ("run_link_program_enrollments", "Can link program enrollments to users"),
    ("run_sync_code_dates", "Can align enrollment code dates with their contract"),
    ("run_add_contract_seats", "Can add seats to a contract (commercial decision)"),
    ("run_repair_org_membership", "Can repair a learner's local organization membership"),
    ("run_repair_keycloak_membership", "Can repair a learner's Keycloak account or membership"),
]


APPEND_ONLY = (
    "Support actions are append-only: {operation} is refused "
    "(personal data is retired with manage.py retire_learner_audit)."
)


class AppendOnlyError(Exception):
    """An attempt to change or delete an audit row through the ORM."""


class SupportActionQuerySet(models.QuerySet):
    """The default manager's queries may read and insert, never update or delete.

    Django's own `_base_manager` stays plain: deleting a user sets its links here to NULL
    through it (the PostgreSQL trigger allows exactly that), and retirement rewrites personal
    data through it (support_tools/audit_retire.py)."""

    def update(self, **kwargs):  # noqa: ANN003, ANN201 - QuerySet signature
        raise AppendOnlyError(APPEND_ONLY.format(operation="update()"))

    def delete(self):  # noqa: ANN201 - QuerySet signature
        raise AppendOnlyError(APPEND_ONLY.format(operation="delete()"))

    def bulk_create(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        # Each row is chained to the one before it, one insert at a time.
        raise AppendOnlyError(APPEND_ONLY.format(operation="bulk_create()"))

    def bulk_update(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        raise AppendOnlyError(APPEND_ONLY.format(operation="bulk_update()"))

    def about(self, user) -> models.QuerySet:  # noqa: ANN001
        """Every action that changed, or was run about, `user`, newest first: bulk runs (a
        link sheet, a sweep) included, once per run."""
        runs = SupportActionLearner.objects.filter(user=user).values("action_id")
        return (
            self.filter(models.Q(subject_user=user) | models.Q(pk__in=runs))
            .select_related("subject_user")
            .order_by("-created_at", "-id")
        )


class SupportAction(models.Model):
    """One row per support action run, from any door, written in the action's transaction.

    Rows form a hash chain (support_tools/audit_chain.py, verified by `verify_audit_trail`)."""

    class Outcome(models.TextChoices):
        CHANGED = "changed", "changed"
        UNCHANGED = "unchanged", "nothing to change"
        OK = "ok", "diagnosis: no problem"
        PROBLEMS = "problems", "diagnosis: problems found"
        FAILED = "failed", "failed"

    # Set at insert, under the chain lock, so time order follows `seq`.
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="support_actions_run",
    )
    actor_label = models.CharField(max_length=200, help_text="Who ran it, as shown at the time.")
    door = models.CharField(max_length=20, help_text="admin, command, api or console.")
    action = models.CharField(max_length=64, db_index=True)
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="support_actions_about",
        help_text="The learner or staff user the action was about.",
    )
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=100, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    inputs = models.JSONField(default=dict, blank=True)
    dry_run = models.BooleanField(default=False)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    changes = models.JSONField(
        default=list, blank=True, help_text="Before and after of every field touched."
    )
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    # The chain. `seq` is assigned at insert under a lock: 1, 2, 3... with no gap.
    seq = models.PositiveBigIntegerField(unique=True, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    row_hash = models.CharField(max_length=64, editable=False)
    key_id = models.CharField(
        max_length=16, blank=True, editable=False, help_text="The HMAC key's id; empty: SHA-256."
    )
    # Snapshots of the user ids: the foreign keys above become NULL when a user is deleted.
    actor_ref = models.BigIntegerField(null=True, blank=True, editable=False)
    subject_ref = models.BigIntegerField(null=True, blank=True, editable=False)
    personal_salt = models.CharField(max_length=32, blank=True, editable=False)
    personal_digest = models.CharField(max_length=64, editable=False)

    objects = SupportActionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = ACTION_PERMISSIONS
        indexes = [models.Index(fields=["subject_user", "-created_at"])]

    def __str__(self) -> str:
        dry = " (dry run)" if self.dry_run else ""
        return f"{self.action}{dry} by {self.actor_label}: {self.outcome}"

    def save(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        if not self._state.adding:
            raise AppendOnlyError(APPEND_ONLY.format(operation="save() of an existing row"))
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        kwargs.update(using=using, force_insert=True)  # never an UPDATE of a row with this pk
        # No savepoint of its own: a failed insert fails the caller's transaction anyway.
        with transaction.atomic(using=using, savepoint=False):
            audit_chain.lock_chain(using)
            self._normalize()
            self.created_at = timezone.now()
            head = (
                type(self)
                ._base_manager.using(using)
                .order_by("-seq")
                .values_list("seq", "row_hash")
                .first()
            )
            seq, prev_hash = (head[0] + 1, head[1]) if head else (1, audit_chain.GENESIS_HASH)
            key_id, key = audit_chain.current_key()
            self.personal_salt = ""  # a fresh salt per row
            audit_chain.seal(self, seq=seq, prev_hash=prev_hash, key_id=key_id, key=key)
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        raise AppendOnlyError(APPEND_ONLY.format(operation="delete()"))

    def _normalize(self) -> None:
        """Hold the values exactly as the database will give them back, so the hash computed
        now is the hash the verifier recomputes."""
        for name in (*audit_chain.CORE_FIELDS, *audit_chain.PERSONAL_FIELDS):
            field = self._meta.get_field(name)
            value = getattr(self, field.attname)
            if name in audit_chain.JSON_FIELDS:
                # The audit trail's rows hold JSON values already (support_tools.audit.jsonable).
                if not getattr(self, "json_ready", False):
                    setattr(self, field.attname, audit_chain.as_stored(value))
            elif value is not None and not isinstance(field, models.DateTimeField):
                setattr(self, field.attname, field.to_python(value))


class SupportActionLearner(models.Model):
    """A learner a bulk run touched, with their outcome in it: what lets each learner (and
    search by username, email or external key) find the run. Written with the run's row."""

    # No database constraints: a bulk run writes thousands of these with its row, in its
    # transaction, from ids it has just read; a check per learner would cost as much as the
    # writes. Django still applies on_delete (a deleted user's links become NULL).
    action = models.ForeignKey(
        SupportAction, on_delete=models.PROTECT, related_name="learners", db_constraint=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="support_action_runs",
        db_constraint=False,
    )
    # The learner's identifier in the input (an external user key), when it has one.
    key = models.CharField(max_length=255, blank=True, db_index=True)
    outcome = models.CharField(max_length=20)

    class Meta:
        indexes = [models.Index(fields=["user", "action"])]

    def __str__(self) -> str:
        return f"{self.user or self.key}: {self.outcome}"
