"""Model admins of the enrollment models."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from enrollments.models import (
    CourseAccessRole,
    CourseAccessRoleAssignment,
    CourseEnrollment,
    CourseMode,
    ProgramCourseEnrollment,
    ProgramEnrollment,
)


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
