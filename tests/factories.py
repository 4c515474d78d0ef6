"""factory-boy factories shared by every test package."""

import datetime as dt
import uuid

import factory
from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken
from oauthlib.common import generate_token

from accounts.models import AmcAccount
from orgs.models import (
    CodeRedemption,
    Contract,
    EnrollmentCode,
    Organization,
    UserOrganizationMapping,
    UserSiteMapping,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"learner{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw")
    is_active = True


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    domain = factory.Sequence(lambda n: f"site{n}.example.com")
    name = factory.LazyAttribute(lambda s: s.domain)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Organization {n}")
    short_name = factory.Sequence(lambda n: f"org{n}")

    @factory.post_generation
    def sites(self, create, extracted, **kwargs):
        if not create:
            return
        if extracted is None:
            self.sites.add(SiteFactory())
        else:
            self.sites.add(*extracted)


class UserOrganizationMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UserOrganizationMapping

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)


class UserSiteMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UserSiteMapping

    user = factory.SubFactory(UserFactory)
    site = factory.SubFactory(SiteFactory)


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application
        django_get_or_create = ("client_id",)

    name = "AMC"
    client_id = "amc-client"
    client_type = Application.CLIENT_CONFIDENTIAL
    authorization_grant_type = Application.GRANT_PASSWORD


class AccessTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccessToken

    user = factory.SubFactory(UserFactory)
    application = factory.SubFactory(ApplicationFactory)
    token = factory.LazyFunction(generate_token)
    expires = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=200))
    scope = "read write"


class RefreshTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RefreshToken

    access_token = factory.SubFactory(AccessTokenFactory)
    user = factory.LazyAttribute(lambda r: r.access_token.user)
    application = factory.LazyAttribute(lambda r: r.access_token.application)
    token = factory.LazyFunction(generate_token)


class AmcAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AmcAccount

    user = factory.SubFactory(UserFactory)


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Contract {n}")
    membership_type = Contract.MembershipType.CODE
    start = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))
    end = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=335))


class EnrollmentCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EnrollmentCode

    code = factory.LazyFunction(lambda: str(uuid.uuid4()))
    contract = factory.SubFactory(ContractFactory)
    activation_date = factory.LazyAttribute(lambda c: c.contract.start)
    expiration_date = factory.LazyAttribute(lambda c: c.contract.end)


class CodeRedemptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CodeRedemption

    code = factory.SubFactory(EnrollmentCodeFactory)
    user = factory.SubFactory(UserFactory)
    redeemed_on = factory.LazyFunction(timezone.now)
