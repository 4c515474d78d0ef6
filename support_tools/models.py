from django.conf import settings
from django.db import models

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


class SupportAction(models.Model):
    """One row per support action run, from any door, written in the action's transaction."""

    class Outcome(models.TextChoices):
        CHANGED = "changed", "changed"
        UNCHANGED = "unchanged", "nothing to change"
        OK = "ok", "diagnosis: no problem"
        PROBLEMS = "problems", "diagnosis: problems found"
        FAILED = "failed", "failed"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
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

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = ACTION_PERMISSIONS
        indexes = [models.Index(fields=["subject_user", "-created_at"])]

    def __str__(self) -> str:
        dry = " (dry run)" if self.dry_run else ""
        return f"{self.action}{dry} by {self.actor_label}: {self.outcome}"
