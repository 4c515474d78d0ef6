"""Typos of enrollment codes for tests: each always differs from the code it is made from."""

from __future__ import annotations

import random

HEX = "0123456789abcdef"
KINDS = ("substitute", "insert", "delete", "swap")


def make_typo(code: str, kind: str, rng: random.Random) -> str:
    """One edit of `kind` on a hex digit of `code` (dashes are left alone). A swap takes two
    neighbouring digits that differ, so the typo is never the code itself."""
    digits = [i for i, c in enumerate(code) if c != "-"]
    if kind == "swap":
        pairs = [(i, j) for i, j in zip(digits, digits[1:], strict=False) if code[i] != code[j]]
        i, j = rng.choice(pairs)
        return code[:i] + code[j] + code[i + 1 : j] + code[i] + code[j + 1 :]
    i = rng.choice(digits)
    if kind == "substitute":
        return code[:i] + rng.choice(HEX.replace(code[i], "")) + code[i + 1 :]
    if kind == "insert":
        return code[:i] + rng.choice(HEX) + code[i:]
    if kind == "delete":
        return code[:i] + code[i + 1 :]
    raise ValueError(kind)
