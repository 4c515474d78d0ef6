"""A background job: bulk work run on the task queue, owned by the tool (not by Celery)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    action = models.CharField(max_length=64, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="support_jobs",
    )
    actor_label = models.CharField(max_length=200)
    door = models.CharField(max_length=20)
    dry_run = models.BooleanField(default=False)
    # What was asked, in brief (the inputs themselves are in `payload`, never shown whole).
    summary = models.JSONField(default=dict, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    result = models.JSONField(null=True, blank=True)
    # The key of `result` under which the kept rows (JobRow) belong, e.g. "results".
    rows_key = models.CharField(max_length=32, blank=True)
    # The kept rows' keys in their order: PostgreSQL's jsonb keeps an object's keys in an order
    # of its own, so the table's and the CSV's columns follow this list, not each row.
    row_columns = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.action} ({self.status}) by {self.actor_label}"

    def cancel_label(self) -> str:
        return self.summary.get("cancelled_by") or "someone"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class JobRow(models.Model):
    """One item of a job's result (a row of a link sheet), kept by the step that did it: a
    100,000-row result is paged and streamed from here, never held whole in the job row."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="rows")
    index = models.PositiveIntegerField(help_text="The item's position in the job's input.")
    status = models.CharField(max_length=20, blank=True)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["job", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="jobs_jobrow_unique_index")
        ]
        indexes = [models.Index(fields=["job", "status", "index"], name="jobs_jobrow_status")]

    def __str__(self) -> str:
        return f"row {self.index + 1} of {self.job_id}: {self.status}"
