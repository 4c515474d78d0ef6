from django.conf import settings
from django.db import models


class AmcAccount(models.Model):
    """The AMC side's record of the tokens it calls the LMS with."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="amc_account"
    )
    access_token = models.TextField(blank=True)
    refresh_token = models.TextField(blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    token_type = models.CharField(max_length=40, default="Bearer")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "AMC account"

    def __str__(self) -> str:
        return f"AMC account of {self.user}"
