"""The orgs app's model admins, registered here explicitly: each playbook keeps its own
admin classes and pages in its package (orgs.amc, orgs.codes, orgs.membership)."""

from __future__ import annotations

from django.contrib import admin

from orgs.codes.admin import CodeRedemptionAdmin, ContractAdmin, EnrollmentCodeAdmin
from orgs.membership.pages import diagnose_link, diagnose_membership
from orgs.models import (
    CodeRedemption,
    Contract,
    EnrollmentCode,
    Organization,
    UserOrganizationMapping,
    UserSiteMapping,
)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["short_name", "name", "active", "sso_organization_id"]
    list_filter = ["active"]
    search_fields = ["short_name", "name", "sso_organization_id"]
    filter_horizontal = ["sites"]


@admin.register(UserOrganizationMapping)
class UserOrganizationMappingAdmin(admin.ModelAdmin):
    list_display = ["user", "user_email", "organization", "is_active", "is_amc_admin"]
    list_display += ["keep_until_seen", diagnose_link]
    actions = [diagnose_membership]
    list_filter = ["is_active", "is_amc_admin", "keep_until_seen", "organization"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__username", "user__email", "organization__short_name"]
    raw_id_fields = ["user"]
    autocomplete_fields = ["organization"]

    @admin.display(description="email", ordering="user__email")
    def user_email(self, obj: UserOrganizationMapping) -> str:
        return obj.user.email


@admin.register(UserSiteMapping)
class UserSiteMappingAdmin(admin.ModelAdmin):
    list_display = ["user", "site", "is_active", "is_amc_admin"]
    list_filter = ["is_active", "is_amc_admin"]
    list_select_related = ["user", "site"]
    search_fields = ["user__username", "user__email", "site__domain"]
    raw_id_fields = ["user", "site"]


admin.site.register(Contract, ContractAdmin)
admin.site.register(EnrollmentCode, EnrollmentCodeAdmin)
admin.site.register(CodeRedemption, CodeRedemptionAdmin)
