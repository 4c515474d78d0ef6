"""A sheet over the limit in the real admin: a background job on the real queue, its progress
bar moving, its summary-first result, the CSV of its rows, then Apply."""

import csv

import pytest

from enrollments.linking import service as linking
from tests.enrollments.factories import PROGRAM
from tests.enrollments.linking.cohort import HeldStep, cohort, fully_linked, untouched
from tests.support_tools.jobs.fixtures import worker_thread

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def job_worker():
    with worker_thread() as w:
        yield w


def progress(page):
    bar = page.locator("#job-progress")
    return bar.get_attribute("value"), bar.get_attribute("max")


def test_support_links_a_big_sheet_as_a_job(
    support_user, settings, monkeypatch, job_worker, login, page, screenshot, check
):
    settings.BULK_SYNC_LIMIT = 3
    monkeypatch.setattr(linking, "BATCH_SIZE", 2)
    monkeypatch.setattr(linking, "STEP_BATCHES", 1)
    sheet = cohort(6)
    held = HeldStep(monkeypatch, at=3)  # the job waits before its third step

    login("support-sam")
    page.click("text=Link program enrollments")
    page.fill("input[name=program_uuid]", str(PROGRAM))
    body = "external_user_key,username\n" + "".join(f"{k},{u}\n" for k, u in sheet)
    page.set_input_files(
        "input[name=csv_file]",
        files=[{"name": "cohort.csv", "mimeType": "text/csv", "buffer": body.encode()}],
    )
    page.click("input[name=preview]")
    page.wait_for_url("**/admin/support/jobs/**")

    # The page's own script moves the bar while the job is held between two steps.
    assert held.reached.wait(timeout=60)
    page.wait_for_function(
        "() => document.querySelector('#job-progress').getAttribute('value') === '4'"
    )
    assert progress(page) == ("4", "7")
    assert page.locator("#job-progress-label").inner_text() == "4 of 7 rows done (57%)"
    check()  # axe-core and the layout, while the job runs
    screenshot("link-job-progress")
    held.released.set()

    page.wait_for_selector("#verdict")  # finished: the page has reloaded with the result
    assert progress(page) == ("7", "7")
    assert page.locator("#verdict").inner_text() == (
        "Dry run: nothing has been written yet. Applying would link 5 and relink 1. "
        "1 row with errors would be skipped (see below)."
    )
    assert page.locator("#relinks").is_visible() and page.locator("#error-rows").is_visible()
    assert all(untouched(i) for i in range(6))
    check()
    screenshot("link-job-preview")
    page.set_viewport_size({"width": 390, "height": 844})
    check()
    screenshot("link-job-preview")
    page.set_viewport_size({"width": 1280, "height": 900})

    with page.expect_download() as download:
        page.click("#download-csv")
    with open(download.value.path(), encoding="utf-8") as downloaded:
        rows = list(csv.reader(downloaded))
    assert rows[0] == ["external_user_key", "username", "status", "message"]
    assert [r[2] for r in rows[1:]] == ["linked", "relinked"] + ["linked"] * 4 + ["error"]

    apply = page.locator("#apply-button")
    assert apply.get_attribute("value") == "Link 5, relink 1"
    apply.click()
    page.wait_for_selector("#verdict >> text=Done: changes applied.")
    assert (
        page.locator("#verdict")
        .inner_text()
        .startswith("Done: changes applied. Partial success: linked 5 and relinked 1; 1 row failed")
    )
    assert all(fully_linked(i) for i in range(6))
    check()
    screenshot("link-job-applied")
