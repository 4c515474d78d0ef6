"""Sweeps: every playbook's diagnoses across the platform (see console/README.md, Sweeps)."""
