"""Admin registrations and pages of this playbook (imported by orgs/admin.py)."""
