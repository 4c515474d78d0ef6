"""Words for people: titles, fix labels, fixes that cannot work or are not the viewer's."""

from support_tools.doors.wording import FIXED_ABOVE, NOT_YOURS, Blocker, Wording, humanize

WORDS = Wording(
    titles={"token_expired": "The access token has expired"},
    fix_labels={"renew": "Renew the tokens"},
    blocked_by={"two_sites": Blocker(frozenset({"renew"}), "Fix the sites first.")},
)


def _problem(code, fix=None):
    return {"code": code, "severity": "error", "message": "m", "fix": fix}


def _present(problems, may=lambda fix: True):
    return WORDS.present(problems, may_apply=may, fix_url=lambda p: f"/fix/{p['fix']}")


def test_humanize_keeps_abbreviations():
    assert humanize("token_check") == "Token check"
    assert humanize("amc_account") == "AMC account"
    assert humanize("sso_id") == "SSO ID"


def test_titles_and_labels_with_a_fallback():
    assert WORDS.title("token_expired") == "The access token has expired"
    assert WORDS.title("new_code") == "New code"
    assert WORDS.fix_label("renew") == "Renew the tokens" and WORDS.fix_label(None) == ""


def test_a_fix_is_offered_once_and_only_to_who_may_apply_it():
    first, second, other = _present(
        [_problem("token_expired", "renew"), _problem("no_account", "renew"), _problem("x")]
    )
    assert first["fix_url"] == "/fix/renew" and first["title"] == "The access token has expired"
    assert second["fix_url"] is None
    assert second["fix_note"] == FIXED_ABOVE.format(label="Renew the tokens")
    assert other["fix_url"] is None and other["fix_note"] is None
    (refused,) = _present([_problem("token_expired", "renew")], may=lambda fix: False)
    assert refused["fix_url"] is None and refused["fix_note"] == NOT_YOURS


def test_a_fix_that_another_problem_blocks_is_not_offered_and_says_why():
    blocker, blocked = _present([_problem("two_sites"), _problem("token_expired", "renew")])
    assert blocked["fix_url"] is None and blocked["fix_note"] == "Fix the sites first."
    assert blocked["fix"] == "renew"  # the JSON still names the fix
