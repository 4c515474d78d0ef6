"""The program-enrollment diagnosis: one learner's programs and their course enrollments.

diagnose_program_enrollments(user=..., actor=...) -> ProgramDiagnosis
TITLES, FIX_LABELS, WORDING: the diagnosis in words for the admin page and the console
"""

from enrollments.programs.labels import FIX_LABELS, TITLES, WORDING

__all__ = ["FIX_LABELS", "TITLES", "WORDING"]
