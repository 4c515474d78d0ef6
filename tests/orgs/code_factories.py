"""Moved to tests/orgs/codes/factories.py; kept importable for tests of other packages."""

from tests.orgs.codes.factories import DAY, fill, redeem, valid_code  # noqa: F401
