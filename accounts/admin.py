from django.contrib import admin

from accounts.models import AmcAccount
from support_tools.secrets import mask_token


@admin.register(AmcAccount)
class AmcAccountAdmin(admin.ModelAdmin):
    list_display = ["user", "user_email", "access_token_end", "token_expires_at", "token_type"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email"]
    list_filter = ["token_type"]
    raw_id_fields = ["user"]
    # Tokens are never shown whole: ensure_amc_token writes them.
    fields = ["user", "access_token_end", "refresh_token_end", "token_expires_at", "token_type"]
    readonly_fields = ["access_token_end", "refresh_token_end", "token_expires_at", "token_type"]

    @admin.display(description="email", ordering="user__email")
    def user_email(self, obj: AmcAccount) -> str:
        return obj.user.email

    @admin.display(description="access token")
    def access_token_end(self, obj: AmcAccount) -> str:
        return mask_token(obj.access_token) or "—"

    @admin.display(description="refresh token")
    def refresh_token_end(self, obj: AmcAccount) -> str:
        return mask_token(obj.refresh_token) or "—"
