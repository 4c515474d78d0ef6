"""REST routes of this playbook, included under /api/v1/ by support_tools/urls.py."""

urlpatterns: list = []
