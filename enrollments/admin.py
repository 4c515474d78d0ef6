"""Admin registrations and pages of the enrollments app."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from enrollments.csv_rows import parse_link_rows
from enrollments.linking import DRY_RUN_PERMISSION, PERMISSION, link_program_enrollments
from enrollments.models import (
    CourseAccessRole,
    CourseAccessRoleAssignment,
    CourseEnrollment,
    CourseMode,
    ProgramCourseEnrollment,
    ProgramEnrollment,
)
from support_tools.actors import Actor
from support_tools.admin_pages import ActionPage, register_page
from support_tools.errors import SupportError

NO_CSV_GIVEN = "Paste the rows or upload a CSV file."


@admin.register(CourseMode)
class CourseModeAdmin(admin.ModelAdmin):
    list_display = ["course_key", "mode_slug"]
    list_filter = ["mode_slug"]
    search_fields = ["course_key"]


class ProgramCourseEnrollmentInline(admin.TabularInline):
    model = ProgramCourseEnrollment
    fk_name = "program_enrollment"
    fields = ["course_key", "status", "course_enrollment"]
    raw_id_fields = ["course_enrollment"]
    extra = 0


@admin.register(ProgramEnrollment)
class ProgramEnrollmentAdmin(admin.ModelAdmin):
    list_display = ["external_user_key", "user", "program_uuid", "curriculum_uuid", "status"]
    list_filter = ["status"]
    search_fields = ["external_user_key", "user__username", "user__email", "program_uuid"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    inlines = [ProgramCourseEnrollmentInline]


@admin.register(CourseEnrollment)
class CourseEnrollmentAdmin(admin.ModelAdmin):
    list_display = ["user", "course_key", "mode", "is_active", "program_link", "created"]
    list_filter = ["mode", "is_active"]
    search_fields = ["user__username", "user__email", "course_key"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CourseEnrollment]:
        return (
            super()
            .get_queryset(request)
            .prefetch_related("program_course_enrollments__program_enrollment")
        )

    @admin.display(description="program link")
    def program_link(self, obj: CourseEnrollment) -> str:
        links = [
            f"{pce.program_enrollment.external_user_key or '-'} in "
            f"{pce.program_enrollment.program_uuid} ({pce.status})"
            for pce in obj.program_course_enrollments.all()
        ]
        return "; ".join(links) or "-"


@admin.register(ProgramCourseEnrollment)
class ProgramCourseEnrollmentAdmin(admin.ModelAdmin):
    list_display = ["course_key", "program_enrollment", "status", "course_enrollment"]
    list_filter = ["status"]
    search_fields = [
        "course_key",
        "program_enrollment__external_user_key",
        "program_enrollment__user__username",
        "program_enrollment__program_uuid",
    ]
    list_select_related = ["program_enrollment", "course_enrollment"]
    raw_id_fields = ["program_enrollment", "course_enrollment"]


@admin.register(CourseAccessRoleAssignment)
class CourseAccessRoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ["role", "enrollment"]
    search_fields = ["enrollment__program_enrollment__external_user_key", "enrollment__course_key"]
    list_select_related = ["enrollment__program_enrollment"]
    raw_id_fields = ["enrollment"]


@admin.register(CourseAccessRole)
class CourseAccessRoleAdmin(admin.ModelAdmin):
    list_display = ["user", "course_key", "role", "org"]
    list_filter = ["role"]
    search_fields = ["user__username", "course_key", "org"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]


# --- The support page ----------------------------------------------------------------------


class LinkProgramEnrollmentsForm(forms.Form):
    program_uuid = forms.UUIDField(label="Program UUID")
    csv_text = forms.CharField(
        label="Rows",
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 80}),
        help_text="CSV lines external_user_key,username; a header row is optional.",
    )
    csv_file = forms.FileField(
        label="or a CSV file",
        required=False,
        help_text="An uploaded file's rows are copied into the box above by the preview, "
        "so that Apply links exactly the rows you saw.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("csv_file")
        raw: bytes | str = upload.read() if upload else (data.get("csv_text") or "")
        if not raw.strip():
            raise forms.ValidationError(NO_CSV_GIVEN)
        try:
            data["pairs"] = parse_link_rows(raw)
        except SupportError as exc:
            raise forms.ValidationError(exc.message) from None
        if upload:
            self.data = self.data.copy()
            self.data["csv_text"] = raw.decode("utf-8").removeprefix("\ufeff")
        return data


class LinkProgramEnrollmentsPage(ActionPage):
    name = "link-program-enrollments"
    route = "enrollments/link/"
    title = "Link program enrollments"
    intro = (
        "Connects the university's external user keys to platform users. Preview first: the "
        "dry run shows, row by row, what would be linked, relinked (moved from another user), "
        "left unchanged or refused; then Apply."
    )
    permission = PERMISSION
    view_permission = DRY_RUN_PERMISSION
    form_class = LinkProgramEnrollmentsForm

    def run(self, data: dict[str, Any], actor: Actor, *, dry_run: bool) -> Any:
        return link_program_enrollments(
            program_uuid=data["program_uuid"], pairs=data["pairs"], actor=actor, dry_run=dry_run
        )


register_page(LinkProgramEnrollmentsPage)
