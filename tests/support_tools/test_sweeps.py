"""support_tools.sweeps: a finding's contract shape, and the batching helpers."""

from support_tools.results import error, warning
from support_tools.sweeps import Finding, chunks, keyset_batches


def test_a_finding_says_the_contracts_fields_and_keeps_what_its_fix_needs():
    finding = Finding.of(
        "amc",
        error("access_token_expired", "ann's token expired.", "ensure_amc_token"),
        target="acme",
        user_id=7,
        username="ann",
        organization="acme",
    )
    assert finding.as_dict() == {
        "playbook": "amc",
        "code": "access_token_expired",
        "severity": "error",
        "message": "ann's token expired.",
        "fix": "ensure_amc_token",
        "user": "ann",
        "target": "acme",
    }
    assert finding.subject_dict() == {"organization": "acme"} and finding.is_error
    assert finding.problem() == error(
        "access_token_expired", "ann's token expired.", "ensure_amc_token"
    )
    assert not Finding.of("codes", warning("x", "y"), target="t").is_error


def test_keyset_batches_ask_for_the_next_ids_after_the_last():
    ids = list(range(1, 11))
    asked = []

    def after(last, n):
        asked.append(last)
        return [i for i in ids if i > last][:n]

    assert list(keyset_batches(after, 4)) == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]
    assert asked == [0, 4, 8]
    assert list(keyset_batches(lambda last, n: [], 4)) == []


def test_chunks():
    assert list(chunks(range(5), 2)) == [[0, 1], [2, 3], [4]]
    assert list(chunks([], 2)) == []
