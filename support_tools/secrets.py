"""Tokens never appear whole in output, logs or the audit trail."""


def mask_token(token: str | None) -> str | None:
    """Keep at most the last four characters of a secret."""
    if not token:
        return None
    return "…" + token[-4:] if len(token) > 4 else "…"
