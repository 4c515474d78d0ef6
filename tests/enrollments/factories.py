"""Factories of the enrollments models."""

import uuid

import factory

from enrollments.models import (
    CourseAccessRole,
    CourseAccessRoleAssignment,
    CourseEnrollment,
    CourseMode,
    ProgramCourseEnrollment,
    ProgramEnrollment,
)
from tests.factories import UserFactory

PROGRAM = uuid.UUID("11111111-2222-3333-4444-555555555555")
CURRICULUM = uuid.UUID("66666666-7777-8888-9999-000000000000")


class CourseModeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CourseMode
        django_get_or_create = ("course_key", "mode_slug")

    course_key = "course-v1:UNI+C1+2025"
    mode_slug = "masters"


class CourseEnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CourseEnrollment

    user = factory.SubFactory(UserFactory)
    course_key = "course-v1:UNI+C1+2025"
    mode = "audit"
    is_active = True


class ProgramEnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgramEnrollment

    user = None
    external_user_key = factory.Sequence(lambda n: f"EXT-{n:05d}")
    program_uuid = PROGRAM
    curriculum_uuid = CURRICULUM
    status = "enrolled"


class ProgramCourseEnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgramCourseEnrollment

    program_enrollment = factory.SubFactory(ProgramEnrollmentFactory)
    course_key = "course-v1:UNI+C1+2025"
    course_enrollment = None
    status = "active"


class CourseAccessRoleAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CourseAccessRoleAssignment

    enrollment = factory.SubFactory(ProgramCourseEnrollmentFactory)
    role = "staff"


class CourseAccessRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CourseAccessRole

    user = factory.SubFactory(UserFactory)
    course_key = "course-v1:UNI+C1+2025"
    role = "staff"
    org = "UNI"
