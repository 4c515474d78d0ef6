from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from oauth2_provider.admin import AccessTokenAdmin, RefreshTokenAdmin
from oauth2_provider.models import AccessToken, RefreshToken

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


# django-oauth-toolkit's own admin shows tokens whole: show their last four characters only.
for _model, _base in ((AccessToken, AccessTokenAdmin), (RefreshToken, RefreshTokenAdmin)):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)

    class _Masked(_base):  # type: ignore[misc, valid-type]
        search_fields = ["user__username", "user__email"]

        def get_list_display(self, request: HttpRequest) -> list[str]:
            return ["token_end" if f == "token" else f for f in super().get_list_display(request)]

        def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
            return ["token_end" if f == "token" else f for f in super().get_fields(request, obj)]

        def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
            return [*super().get_readonly_fields(request, obj), "token_end"]

        @admin.display(description="token")
        def token_end(self, obj: Any) -> str:
            return mask_token(obj.token) or "—"

    admin.site.register(_model, _Masked)
