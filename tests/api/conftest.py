def pytest_terminal_summary(terminalreporter):
    """How much schemathesis sent: the figures the issue asks for."""
    from tests.api.test_schemathesis import REQUESTS

    if REQUESTS:
        terminalreporter.write_line(
            f"schemathesis: {sum(REQUESTS.values())} requests over {len(REQUESTS)} operations"
        )
