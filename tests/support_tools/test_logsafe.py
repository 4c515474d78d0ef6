"""Logs never hold a whole secret; JSON lines; one line per support action."""

import json
import logging
import sys

import pytest
from oauthlib.common import generate_token

from support_tools.audit import support_action
from support_tools.errors import SupportError
from support_tools.logsafe import (
    ACTIONS_LOGGER,
    MaskSecrets,
    log_support_action,
    logging_config,
    mask_secrets,
)
from support_tools.models import SupportAction
from support_tools.permissions import ActionSpec
from tests.factories import UserFactory
from tests.project.log_capture import captured_logs

TOKEN = "Zx81aQ0pL3mN7vB2cD4eF6gH8jK0lM2n"  # 32 characters, random-looking
KNOX = "st_" + "9f" * 32
SPEC = ActionSpec("demo", preview="auth.view_user", apply=("run_ensure_amc_admin",))


@pytest.mark.parametrize(
    "line",
    [
        f"Authorization: Bearer {TOKEN}",
        f"'HTTP_AUTHORIZATION': 'Token {KNOX}'",
        f"authorization=Basic {TOKEN}",
        f"GET /api/v1/me?access_token={TOKEN}&x=1",
        f"grant_type=refresh_token&refresh_token={TOKEN}&client_secret={TOKEN}",
        f"password={TOKEN}",
        f'{{"token": "{TOKEN}", "expires": "2027-01-01"}}',
        f"{{'access_token': '{TOKEN}', 'refresh_token': '{TOKEN}', 'token_type': 'Bearer'}}",
        f"Cookie: sessionid={TOKEN}; csrftoken={TOKEN}",
        f"a random string {TOKEN} in the middle",
        f"a knox token {KNOX} on its own",
    ],
)
def test_secrets_keep_at_most_their_last_four_characters(line):
    masked = mask_secrets(line)
    assert TOKEN not in masked and KNOX not in masked
    assert TOKEN[:-4] not in masked and KNOX[:-4] not in masked
    assert "…" in masked


@pytest.mark.parametrize(
    "line",
    [
        "program 8d2a6c1e-0b3f-4c5d-9e7f-a1b2c3d4e5f6 linked",  # UUIDs are identifiers
        "course-v1:ACME+PHYS101+2026_T1 for ann@example.com",
        "support_tools.audit.support_action_failed_while_recording",  # words, not random
        "Token expired; Bearer realm=api",
        "Unauthorized: /api/v1/me",
    ],
)
def test_ordinary_text_is_left_alone(line):
    assert mask_secrets(line) == line


def test_a_short_secret_is_masked_whole():
    assert mask_secrets("password=abc") == "password=…"


def test_the_filter_masks_message_arguments_tracebacks_and_extra_fields():
    try:
        raise ValueError(f"refresh_token={TOKEN}")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x",
            logging.ERROR,
            __file__,
            1,
            "token %s failed",
            (TOKEN,),
            exc_info=sys.exc_info(),
            extra={"context": {"header": f"Bearer {TOKEN}"}},
        )
    assert MaskSecrets().filter(record) is True
    assert TOKEN not in record.getMessage()
    assert TOKEN not in record.exc_text and "ValueError" in record.exc_text
    assert TOKEN not in json.dumps(record.context)


def test_json_lines_hold_one_object_each_with_extra_fields_and_traceback():
    with captured_logs(level="INFO", fmt="json") as out:
        log = logging.getLogger("support_tools.test")
        log.info("first %s", TOKEN, extra={"ticket": 42})
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.exception("second")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "INFO" and first["logger"] == "support_tools.test"
    assert first["ticket"] == 42 and first["message"] == "first …" + TOKEN[-4:]
    assert "RuntimeError: boom" in second["exc"] and "\n" not in lines[1]


def test_an_unknown_log_format_is_refused():
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config(fmt="xml")


def test_every_configured_handler_masks_secrets():
    """The settings' LOGGING, as Django applied it: Django's own handlers are replaced too."""
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    handlers = {
        handler
        for logger in loggers
        for handler in logger.handlers
        if not type(handler).__module__.startswith("_pytest")
        and not isinstance(handler, logging.NullHandler)  # libraries' silence: writes nothing
    }
    assert handlers  # the root's stderr handler at least
    for handler in handlers:
        assert any(isinstance(f, MaskSecrets) for f in handler.filters), handler


@pytest.mark.django_db
def test_one_json_line_per_support_action_without_inputs_or_result(system_actor):
    ann = UserFactory(username="ann")
    secret = generate_token()
    with support_action(SPEC, actor=system_actor, inputs={"token": secret}) as trail:
        trail.about(ann)
        trail.result = {"token": secret}
    with pytest.raises(SupportError), support_action(SPEC, actor=system_actor, inputs={}):
        raise SupportError("Nothing to do for ann.")
    done, failed = SupportAction.objects.order_by("id")

    # Production logs json, where the actions logger is at INFO; a shell's stderr stays quiet.
    assert logging_config(level="WARNING", fmt="json")["loggers"][ACTIONS_LOGGER]["level"] == "INFO"
    assert logging_config(level="WARNING")["loggers"][ACTIONS_LOGGER]["level"] == "WARNING"
    actions = logging.getLogger(ACTIONS_LOGGER)
    saved, actions.level = actions.level, logging.INFO
    with captured_logs(level="WARNING", fmt="json") as out:
        log_support_action(done)
        log_support_action(failed)
    actions.setLevel(saved)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())

    assert first["logger"] == ACTIONS_LOGGER and first["level"] == "INFO"
    assert first["support_action"] == {
        "id": done.pk,
        "action": "demo",
        "actor": system_actor.label,
        "actor_id": None,
        "door": "command",
        "outcome": "unchanged",
        "dry_run": False,
        "subject_user_id": ann.pk,
        "target": None,
        "error": None,
    }
    assert first["message"] == (
        f"support action {done.pk}: demo by {system_actor.label} via command: unchanged"
    )
    assert second["support_action"]["outcome"] == "failed"
    assert second["support_action"]["error"] == "Nothing to do for ann."
    assert secret not in out.getvalue() and secret[-4:] not in out.getvalue()
