"""A mail (Django's email backend) to SWEEP_NOTIFY_EMAILS when a sweep finds more errors of a
kind than the previous sweep of the same playbook did."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Count

from console.sweeps.models import Finding, Sweep

SUBJECT = "Support sweep {id}: more errors than the previous sweep ({n} new)"
LINE = "- {code} ({playbook}): {before} -> {now}"
BODY = (
    "The sweep of {when} found more errors of these kinds than the sweep before it:\n\n"
    "{lines}\n\nSee them in the admin: Support › Platform health (/admin/support/health/)."
)


def new_errors(sweep: Sweep) -> list[tuple[str, str, int, int]]:
    """(playbook, code, before, now) for each kind of error that grew since the previous sweep
    of its playbook; a first sweep announces every error it found."""
    from console.sweeps.service import previous_counts

    before = previous_counts(sweep)
    grown = []
    rows = (
        Finding.objects.filter(sweep=sweep, severity="error")
        .values("playbook", "code")
        .annotate(n=Count("pk"))
        .order_by("playbook", "code")
    )
    for row in rows:
        was = (before.get(row["playbook"]) or {}).get(row["code"], 0)
        if row["n"] > was:
            grown.append((row["playbook"], row["code"], was, row["n"]))
    return grown


def announce_new_errors(sweep: Sweep) -> bool:
    recipients = settings.SWEEP_NOTIFY_EMAILS
    if not recipients:
        return False
    grown = new_errors(sweep)
    if not grown:
        return False
    lines = "\n".join(LINE.format(playbook=p, code=c, before=b, now=n) for p, c, b, n in grown)
    send_mail(
        SUBJECT.format(id=sweep.pk, n=sum(n - b for _, _, b, n in grown)),
        BODY.format(when=sweep.started_at.strftime("%Y-%m-%d %H:%M UTC"), lines=lines),
        None,
        list(recipients),
    )
    return True
