"""Models of the enrollments app (see shared/CONTRACT.md)."""
