"""Admin registrations and pages of the enrollments app."""
