import io
import json
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from enrollments.linking.csv_rows import CSV_EMPTY, CSV_NOT_UTF8, CSV_WRONG_COLUMNS
from enrollments.linking.service import PROGRAM_NOT_FOUND
from enrollments.management.commands import link_program_enrollments as command_module
from enrollments.models import CourseEnrollment, ProgramEnrollment
from support_tools.models import SupportAction
from tests.enrollments.factories import (
    PROGRAM,
    CourseModeFactory,
    ProgramCourseEnrollmentFactory,
    ProgramEnrollmentFactory,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
COURSE = "course-v1:UNI+C1+2025"


@pytest.fixture(autouse=True)
def program():
    CourseModeFactory(course_key=COURSE, mode_slug="masters")
    for key in ("EXT-1", "EXT-2"):
        ProgramCourseEnrollmentFactory(
            program_enrollment=ProgramEnrollmentFactory(external_user_key=key), course_key=COURSE
        )
    UserFactory(username="ann")
    UserFactory(username="bob")


def run(*args, stdin=None):
    out = io.StringIO()
    kwargs = {"stdin": stdin} if stdin is not None else {}
    call_command("link_program_enrollments", *args, stdout=out, **kwargs)
    return out.getvalue()


def bytes_stdin(data):
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")


def linked():
    return dict(
        ProgramEnrollment.objects.filter(user__isnull=False).values_list(
            "external_user_key", "user__username"
        )
    )


def test_links_a_file_with_bom_header_blank_lines_and_spaces(tmp_path):
    sheet = tmp_path / "sheet.csv"
    sheet.write_bytes(
        "\ufeffexternal_user_key,username\r\n\r\n ext-1 , ann \r\nEXT-2,bob\r\n".encode()
    )

    data = json.loads(run(str(PROGRAM), str(sheet), "--json"))

    assert data["changed"] is True and data["dry_run"] is False
    assert [(r["external_user_key"], r["username"], r["status"]) for r in data["results"]] == [
        ("ext-1", "ann", "linked"),
        ("EXT-2", "bob", "linked"),
    ]
    assert set(data["results"][0]) == {"external_user_key", "username", "status", "message"}
    assert linked() == {"EXT-1": "ann", "EXT-2": "bob"}
    assert SupportAction.objects.get().door == "command"


@pytest.mark.parametrize("file_args", [(), ("-",)])
def test_reads_stdin_when_the_file_is_absent_or_dash(file_args):
    data = json.loads(run(str(PROGRAM), *file_args, "--json", stdin=bytes_stdin(b"EXT-1,ann\n")))
    assert data["results"][0]["status"] == "linked"
    assert linked() == {"EXT-1": "ann"}


def test_dry_run_writes_nothing_and_a_second_run_is_unchanged(tmp_path):
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("EXT-1,ann\n")

    dry = json.loads(run(str(PROGRAM), str(sheet), "--dry-run", "--json"))
    assert dry["dry_run"] is True and dry["changed"] is True
    assert linked() == {} and not CourseEnrollment.objects.exists()

    run(str(PROGRAM), str(sheet))
    again = json.loads(run(str(PROGRAM), str(sheet), "--json"))
    assert again["changed"] is False
    assert again["results"][0]["status"] == "unchanged"


def test_text_output_lists_every_row(tmp_path):
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("EXT-1,ann\nEXT-9,bob\n")

    text = run(str(PROGRAM), str(sheet))

    assert "Changes applied." in text
    assert "external_user_key=EXT-1  username=ann  status=linked" in text
    assert "external_user_key=EXT-9  username=bob  status=error" in text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"EXT-1,ann\nEXT-2,\xff\n", CSV_NOT_UTF8.format(position=16)),
        (b"EXT-1,ann\nEXT-2,bob,extra\n", CSV_WRONG_COLUMNS.format(line=2, count=3)),
        (b"\n\n", CSV_EMPTY),
    ],
)
def test_bad_files_get_one_message_and_write_nothing(tmp_path, data, message):
    sheet = tmp_path / "sheet.csv"
    sheet.write_bytes(data)

    with pytest.raises(CommandError) as failed:
        run(str(PROGRAM), str(sheet))

    assert str(failed.value) == message
    assert linked() == {} and not SupportAction.objects.exists()


def test_a_missing_file_or_program_is_one_plain_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read .*nope.csv: No such file or directory"):
        run(str(PROGRAM), str(tmp_path / "nope.csv"))
    other = "0b6b7f3e-0000-4000-8000-000000000000"
    with pytest.raises(CommandError) as failed:
        run(other, stdin=bytes_stdin(b"EXT-1,ann\n"))
    assert str(failed.value) == PROGRAM_NOT_FOUND.format(program=other)


def test_progress_bar_goes_to_stderr_only_on_a_terminal(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    out = run(str(PROGRAM), "--json", stdin=bytes_stdin(b"EXT-1,ann\nEXT-2,bob\n"))
    assert "Linking: 100%" in terminal.getvalue() and "2/2" in terminal.getvalue()
    assert terminal.getvalue().endswith("\n")
    assert json.loads(out)["changed"] is True  # stdout holds the JSON alone

    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    run(str(PROGRAM), "--json", stdin=bytes_stdin(b"EXT-1,ann\n"))
    assert piped.getvalue() == ""


def test_progress_bar_drawing():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    bar = command_module.ProgressBar(stream, mininterval=0)
    bar(500, 1000)
    assert "Linking:  50%" in stream.getvalue() and "500/1000" in stream.getvalue()
    bar(1000, 1000)
    assert "Linking: 100%" in stream.getvalue() and "1000/1000" in stream.getvalue()
    assert stream.getvalue().endswith("\n")


def test_manage_py_exits_1_with_one_line_and_no_traceback(tmp_path):
    sheet = tmp_path / "sheet.csv"
    sheet.write_bytes(b"EXT-1;ann;x\n")
    done = subprocess.run(
        [sys.executable, "manage.py", "link_program_enrollments", str(PROGRAM), str(sheet)],
        capture_output=True,
        text=True,
        env={"SUPPORT_TOOLS_INSECURE_DEV": "1", "PATH": "/usr/bin:/bin"},
        check=False,
        cwd=settings.BASE_DIR,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip().count("\n") == 0
    assert CSV_WRONG_COLUMNS.format(line=1, count=1) in done.stderr
    assert "Traceback" not in done.stderr
