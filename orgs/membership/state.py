"""Kept only because console/checklist.py imports these two names from here; they belong to
orgs.membership (import them from there). Delete this module once the console does."""

from orgs.membership.fixes import permission_for
from orgs.membership.names import Fix

__all__ = ["Fix", "permission_for"]
