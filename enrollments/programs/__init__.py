"""The program-enrollment diagnosis: one learner's programs and their course enrollments.

diagnose_program_enrollments(user=..., actor=...) -> ProgramDiagnosis
"""
