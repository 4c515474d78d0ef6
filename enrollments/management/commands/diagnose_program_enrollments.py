from enrollments.programs.diagnosis import diagnose_program_enrollments
from support_tools.doors.commands import SupportCommand


class Command(SupportCommand):
    help = "Check that a learner's program course enrollments hold their course enrollments."
    action = "diagnose_program_enrollments"

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Email or username.")

    def run(self, options, actor):
        return diagnose_program_enrollments(user=options["user"], actor=actor)
