"""project/celery.py: SWEEP_SCHEDULE as Celery beat takes it."""

import datetime as dt

import pytest
from celery.schedules import crontab

from project.celery import SCHEDULE_INVALID, SWEEP_TASK, beat_schedule, sweep_schedule


def test_a_crontab_in_utc():
    assert sweep_schedule("0 3 * * *") == crontab(minute="0", hour="3")
    assert sweep_schedule(" 30 */6 * * 1-5 ") == crontab(minute="30", hour="*/6", day_of_week="1-5")


@pytest.mark.parametrize(("text", "seconds"), [("3600", 3600), ("30s", 30), ("0.5", 0.5)])
def test_seconds_between_runs(text, seconds):
    assert sweep_schedule(text) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "daily", "0", "-5s", "1 2 3"])
def test_anything_else_is_refused_with_the_setting_named(text):
    with pytest.raises(ValueError) as exc:
        sweep_schedule(text)
    assert str(exc.value) == SCHEDULE_INVALID.format(value=text)


def test_the_default_is_daily_at_three(settings):
    assert settings.SWEEP_SCHEDULE == "0 3 * * *"
    assert beat_schedule() == {
        "sweep": {"task": SWEEP_TASK, "schedule": crontab(minute="0", hour="3")}
    }
