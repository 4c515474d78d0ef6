"""The client address that login throttling counts."""

import pytest
from django.test import RequestFactory

from support_tools.proxy import client_ip


@pytest.mark.parametrize(
    ("behind", "count", "forwarded", "expected"),
    [
        (False, 1, "203.0.113.9", "10.0.0.2"),  # no proxy: a client's header is ignored
        (True, 1, "203.0.113.9", "203.0.113.9"),
        (True, 1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the client made up the first
        (True, 2, "198.51.100.1, 203.0.113.9, 10.0.0.7", "203.0.113.9"),
        (True, 1, "", "10.0.0.2"),
    ],
)
def test_the_address_our_proxy_saw(settings, behind, count, forwarded, expected):
    settings.BEHIND_TLS_PROXY, settings.TRUSTED_PROXY_COUNT = behind, count
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
