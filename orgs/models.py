from django.conf import settings
from django.contrib.sites.models import Site
from django.db import models
from django.db.models import Value
from django.db.models.functions import Lower, Replace, Substr


class Organization(models.Model):
    name = models.CharField(max_length=255)
    short_name = models.CharField(max_length=255, help_text="Unique, case-insensitively.")
    active = models.BooleanField(default=True)
    sites = models.ManyToManyField(Site, blank=True, related_name="organizations")
    sso_organization_id = models.UUIDField(
        null=True,
        blank=True,
        unique=True,
        verbose_name="SSO organization id",
        help_text="The Keycloak organization id; set when Keycloak controls the membership.",
    )
    email_domains = models.JSONField(
        default=list, blank=True, help_text='Domains whose learners belong here: ["example.edu"].'
    )

    class Meta:
        ordering = ["short_name"]
        constraints = [
            models.UniqueConstraint(Lower("short_name"), name="orgs_organization_short_name_ci")
        ]

    def __str__(self) -> str:
        return self.short_name


class UserOrganizationMapping(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organization_mappings"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="user_mappings"
    )
    is_active = models.BooleanField(default=True)
    is_amc_admin = models.BooleanField(default=False, verbose_name="AMC admin")
    keep_until_seen = models.BooleanField(
        default=False,
        help_text="Keep this membership at login even when Keycloak does not report it (yet).",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="orgs_uom_unique")
        ]
        # Granted explicitly, in no group: an AMC token for a staff or superuser account acts
        # with that account's powers on the LMS.
        permissions = [
            ("amc_for_staff_accounts", "Can give AMC tokens and AMC-admin rights to staff accounts")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization}"


class UserSiteMapping(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="site_mappings"
    )
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="user_mappings")
    is_active = models.BooleanField(default=True)
    is_amc_admin = models.BooleanField(default=False, verbose_name="AMC admin")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "site"], name="orgs_usm_unique")]

    def __str__(self) -> str:
        return f"{self.user} on {self.site}"


class Contract(models.Model):
    class MembershipType(models.TextChoices):
        MANAGED = "managed", "managed"
        CODE = "code", "enrollment code"
        AUTO = "auto", "automatic"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contracts"
    )
    name = models.CharField(max_length=255)
    membership_type = models.CharField(
        max_length=20, choices=MembershipType.choices, default=MembershipType.CODE
    )
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(
        default=True, help_text="Switches the contract off inside its dates; never extends them."
    )
    max_learners = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty or 0: unlimited."
    )
    learners = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="contracts"
    )

    class Meta:
        ordering = ["organization__short_name", "name"]

    def __str__(self) -> str:
        return f"{self.organization.short_name}: {self.name}"


CODE_SEGMENTS = ((0, 6), (6, 12), (12, 19), (19, 25), (25, 32))


def _code_segment(start: int, end: int) -> models.GeneratedField:
    digits = Replace(Lower("code"), Value("-"), Value(""))
    return models.GeneratedField(
        expression=Substr(digits, start + 1, end - start),
        output_field=models.CharField(max_length=end - start),
        db_persist=True,
        editable=False,
    )


class EnrollmentCode(models.Model):
    class RedemptionType(models.TextChoices):
        ONE_TIME = "one-time", "one time"
        ONE_TIME_PER_USER = "one-time-per-user", "one time per user"
        UNLIMITED = "unlimited", "unlimited"

    code = models.CharField(
        max_length=64, unique=True, help_text="A UUID in canonical lower-case form."
    )
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="codes")
    activation_date = models.DateTimeField(null=True, blank=True)
    expiration_date = models.DateTimeField(null=True, blank=True)
    redemption_type = models.CharField(
        max_length=20, choices=RedemptionType.choices, default=RedemptionType.ONE_TIME
    )
    # Typo look-up keys, computed by the database: five pieces of the code's 32 hex digits.
    # Two edits touch at most four pieces, so any code within two edits of an input shares one
    # whole piece with it (see orgs/codes/suggestions.py).
    segment_1 = _code_segment(0, 6)
    segment_2 = _code_segment(6, 12)
    segment_3 = _code_segment(12, 19)  # holds the UUID version and variant digits
    segment_4 = _code_segment(19, 25)
    segment_5 = _code_segment(25, 32)

    class Meta:
        indexes = [
            models.Index(fields=[f"segment_{i}"], name=f"orgs_code_segment_{i}")
            for i in range(1, 6)
        ]

    def __str__(self) -> str:
        return self.code


class CodeRedemption(models.Model):
    code = models.ForeignKey(EnrollmentCode, on_delete=models.CASCADE, related_name="redemptions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="code_redemptions"
    )
    redeemed_on = models.DateTimeField()

    class Meta:
        ordering = ["-redeemed_on"]

    def __str__(self) -> str:
        return f"{self.code} by {self.user}"
