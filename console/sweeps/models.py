"""A sweep's run and its findings, kept so the Health page can show the trend.

The counts live on the run (they are the trend); the findings themselves are kept for the
latest SWEEP_KEEP_FINDINGS runs (the drill-down, the CSV and bulk fixes read them).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Sweep(models.Model):
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    actor_label = models.CharField(max_length=200)
    door = models.CharField(max_length=20, help_text="command, api, admin or schedule.")
    playbooks = models.JSONField(default=list, help_text="The playbooks swept.")
    # {playbook: {code: number of findings}}: the trend, kept when findings are pruned
    counts = models.JSONField(default=dict, blank=True)
    errors = models.PositiveIntegerField(default=0)
    warnings = models.PositiveIntegerField(default=0)
    # what each selector checked, and what it could not (a Keycloak organization left out)
    stats = models.JSONField(default=dict, blank=True)
    # the bulk fixes run on this sweep's findings: the codes asked, and each call's outcome
    fix_codes = models.JSONField(default=list, blank=True)
    fix_dry_run = models.BooleanField(default=False)
    fixes = models.JSONField(default=list, blank=True)
    findings_pruned = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at", "-id"]
        get_latest_by = ["started_at", "id"]

    def __str__(self) -> str:
        return f"sweep {self.pk} of {self.started_at:%Y-%m-%d %H:%M} ({', '.join(self.playbooks)})"

    @property
    def total(self) -> int:
        return self.errors + self.warnings


class Finding(models.Model):
    sweep = models.ForeignKey(Sweep, on_delete=models.CASCADE, related_name="findings")
    playbook = models.CharField(max_length=20)
    code = models.CharField(max_length=64)
    severity = models.CharField(max_length=10)
    message = models.TextField()
    fix = models.CharField(max_length=64, blank=True)
    # no database constraint: a learner deleted since keeps the finding as it was said
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    username = models.CharField(max_length=150, blank=True)
    target = models.CharField(max_length=300)
    subject = models.JSONField(default=dict, blank=True)  # what its fix needs

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["sweep", "playbook", "code"])]

    def __str__(self) -> str:
        return f"{self.code}: {self.username or self.target}"
