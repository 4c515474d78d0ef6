"""How results read on the pages: labelled fields, times in UTC with the zone, never JSON."""

import datetime as dt

from support_tools.doors.wording import Wording
from support_tools.templatetags.support_pages import as_fields, render_table, when


def test_when_shows_utc_with_its_zone():
    moment = dt.datetime(2026, 11, 20, 11, 51, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert when(moment) == "2026-11-20 10:51 UTC"
    assert when("2026-11-20T10:51:07.123456+00:00") == "2026-11-20 10:51 UTC"
    assert when(None) == "never" and when("not a time") == "not a time"


def test_a_result_reads_as_labelled_fields():
    html = as_fields(
        {
            "ok": False,
            "problems": [],
            "user": "mat",
            "access_token": {"created": True, "expires": "2027-01-02T03:04:00+00:00"},
            "failed_fixes": [],
            "organizations": ["acme", "globex"],
            "token_check": {},
        }
    )
    assert "<dt>User</dt><dd>mat</dd>" in html
    assert "<dt>Access token</dt>" in html and "<dt>Created</dt><dd>yes</dd>" in html
    assert "2027-01-02 03:04 UTC" in html
    assert "<dd>acme, globex</dd>" in html
    assert "Failed fixes" not in html and "Token check" not in html  # empty: left out
    assert "{" not in html and "Problems" not in html


def test_rows_read_as_a_table_with_fix_labels():
    rows = [{"fix": "renew", "status": "would_do", "message": "would renew"}]
    html = render_table(rows, wording=Wording(fix_labels={"renew": "Renew"}), table_id="r")
    assert '<th scope="col">Fix</th>' in html
    assert 'Renew <code class="code-name">renew</code>' in html
    assert '<td class="status-would_do">would do</td>' in html
