"""The program-enrollment diagnosis in words: a title per problem code and a label per fix (the
admin page and the console show these; the JSON keeps the codes)."""

from __future__ import annotations

from enrollments.programs.diagnosis import FIX_LINK
from support_tools.doors.wording import Wording

TITLES = {
    "course_enrollment_missing": "No course enrollment",
    "course_enrollment_state": "The course enrollment is in the wrong state",
    "course_enrollment_mode": "The course enrollment is not in the masters track",
    "staff_role_waiting": "A course staff role is still waiting",
}

FIX_LABELS = {FIX_LINK: "Link the learner's key again"}

FIX_BLOCKED_BY: dict = {}

WORDING = Wording(TITLES, FIX_LABELS, FIX_BLOCKED_BY)
