"""Models of the enrollments app (see shared/CONTRACT.md).

Programs and courses live in other systems: here they are only UUIDs and course keys.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

MASTERS = "masters"
AUDIT = "audit"
HONOR = "honor"


class CourseMode(models.Model):
    course_key = models.CharField(max_length=255)
    mode_slug = models.CharField(max_length=100, help_text="audit, honor, verified, masters, ...")

    class Meta:
        ordering = ["course_key", "mode_slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["course_key", "mode_slug"], name="enrollments_coursemode_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.course_key} [{self.mode_slug}]"


class CourseEnrollment(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="course_enrollments"
    )
    course_key = models.CharField(max_length=255, db_index=True)
    mode = models.CharField(max_length=100, default=AUDIT)
    is_active = models.BooleanField(default=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "course_key"], name="enrollments_courseenrollment_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.course_key} ({self.mode})"


class ProgramEnrollment(models.Model):
    class Status(models.TextChoices):
        ENROLLED = "enrolled", "enrolled"
        PENDING = "pending", "pending"
        SUSPENDED = "suspended", "suspended"
        CANCELED = "canceled", "canceled"
        ENDED = "ended", "ended"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="program_enrollments",
    )
    external_user_key = models.CharField(
        max_length=255,
        null=True,
        blank=True,
        help_text="The university's own key for the learner; matched case-insensitively.",
    )
    program_uuid = models.UUIDField(db_index=True)
    curriculum_uuid = models.UUIDField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "program_uuid", "curriculum_uuid"],
                name="enrollments_pe_user_unique",
            ),
            models.UniqueConstraint(
                fields=["external_user_key", "program_uuid", "curriculum_uuid"],
                name="enrollments_pe_key_unique",
            ),
        ]
        indexes = [
            # The linking look-up: lower(external_user_key) IN (...) within one program.
            models.Index(Lower("external_user_key"), "program_uuid", name="enrollments_pe_key_ci"),
        ]

    def __str__(self) -> str:
        who = self.external_user_key or f"user {self.user_id}"
        return f"{who} in program {self.program_uuid}"


class ProgramCourseEnrollment(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "active"
        INACTIVE = "inactive", "inactive"

    program_enrollment = models.ForeignKey(
        ProgramEnrollment, on_delete=models.CASCADE, related_name="program_course_enrollments"
    )
    course_key = models.CharField(max_length=255)
    course_enrollment = models.ForeignKey(
        CourseEnrollment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="program_course_enrollments",
        help_text="The learner's course enrollment; empty until the program enrollment is linked.",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["program_enrollment", "course_key"], name="enrollments_pce_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.course_key} of {self.program_enrollment}"


class CourseAccessRoleAssignment(models.Model):
    """A course role waiting for its program course enrollment to get a user."""

    class Role(models.TextChoices):
        STAFF = "staff", "staff"

    enrollment = models.ForeignKey(
        ProgramCourseEnrollment, on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(max_length=64, choices=Role.choices, default=Role.STAFF)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["role", "enrollment"], name="enrollments_role_assignment_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.role} waiting on {self.enrollment}"


class CourseAccessRole(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="course_access_roles"
    )
    course_key = models.CharField(max_length=255, db_index=True)
    role = models.CharField(max_length=64)
    org = models.CharField(max_length=255, blank=True, help_text="The org part of the course key.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "course_key", "role", "org"],
                name="enrollments_courseaccessrole_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.role} of {self.course_key} for {self.user_id}"


def course_org(course_key: str) -> str:
    """The org part of `course-v1:ORG+COURSE+RUN` (or of an old `ORG/COURSE/RUN` key)."""
    _, _, body = course_key.partition(":")
    body = body or course_key
    for sep in ("+", "/"):
        if sep in body:
            return body.split(sep, 1)[0]
    return ""
