import random
import uuid

import pytest

from tests.typos import KINDS, make_typo


@pytest.mark.parametrize("kind", KINDS)
def test_a_typo_always_differs_from_its_code(kind):
    rng = random.Random(7)
    codes = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(2000)]
    # Codes whose neighbours repeat are where the old swap-by-position made no typo at all.
    codes += ["aaaaaaaa-aaaa-4aaa-aaaa-aaaaaaaaaaab", "11111111-2222-4333-8444-555555555555"]
    for code in codes:
        assert make_typo(code, kind, rng) != code
