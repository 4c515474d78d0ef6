"""The console's models: the sweeps' runs and findings (console/sweeps/models.py)."""

from console.sweeps.models import Finding, Sweep

__all__ = ["Finding", "Sweep"]
