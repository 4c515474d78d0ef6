import pytest

from tests.factories import OrganizationFactory, UserFactory, UserOrganizationMappingFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.keycloak]


@pytest.fixture
def lena(kc):
    """In a Keycloak-controlled organization whose identity provider her password blocks."""
    kc_org = kc.org(idp=True)
    org = OrganizationFactory(
        name=kc_org.name,
        short_name=kc_org.alias,
        sso_organization_id=kc_org.id,
        email_domains=[kc_org.domain],
    )
    email = f"lena@{kc_org.domain}"
    kc_user = kc.user(email, password=True)
    kc.add_member(kc_org, kc_user)
    lena = UserFactory(username="lena", email=email)
    UserOrganizationMappingFactory(user=lena, organization=org, keep_until_seen=True)
    return lena, kc_org, kc_user


def test_the_password_that_blocks_the_identity_provider_day(
    kc, lena, role, width, login_as, page, check, screenshot
):
    lena, kc_org, kc_user = lena
    login_as(role)
    page.goto("/admin/support/console/")
    page.fill("input[name=q]", lena.email)
    page.click("input[value=Find]")
    section = page.locator(f"#section-membership-{kc_org.alias}")
    assert section.get_attribute("data-status") == "error"
    problem = section.locator("[data-code=password_blocks_idp]")
    assert "A password stops the sign-in through the identity provider" in problem.inner_text()
    check()
    if role == "support":
        screenshot("console-membership-before-fix")

    if role == "viewer":
        assert page.locator("a.fix-button").count() == 0
        page.goto(f"/admin/support/orgs/membership/{lena.pk}/diagnose/?org={kc_org.alias}")
        page.locator("[data-code=password_blocks_idp]").wait_for()
        check()
        assert kc.credential_types(kc_user) == ["password"]
        page.goto(f"/admin/support/console/{lena.pk}/")
    else:
        problem.locator("a.fix-button", has_text="Delete the Keycloak password").click()
        page.wait_for_selector("text=Dry run: nothing has been written yet")
        assert kc.credential_types(kc_user) == ["password"]  # the preview only read Keycloak
        check()
        page.click("#apply-button")
        page.wait_for_selector("#outcome-summary")
        assert page.inner_text("#outcome-summary") == "Changes applied."
        check()
        assert kc.credential_types(kc_user) == []
        page.click("#back-link")
        section = page.locator(f"#section-membership-{kc_org.alias}")
        assert section.locator("[data-code=password_blocks_idp]").count() == 0
        # What is left is the reminder that the learner must sign in again.
        assert section.get_attribute("data-status") == "warning"
        assert section.locator("[data-code=relogin_required]").is_visible()
        check()
        if role == "support":
            screenshot("console-membership-after-fix")

    page.click("#history-all")
    page.locator("#result_list tbody tr").first.wait_for()
    check()


def test_support_unblocks_a_learner_whose_password_stops_the_identity_provider(
    kc, support_user, login, page, screenshot
):
    kc_org = kc.org(idp=True)
    org = OrganizationFactory(
        name=kc_org.name,
        short_name=kc_org.alias,
        sso_organization_id=kc_org.id,
        email_domains=[kc_org.domain],
    )
    email = f"lena@{kc_org.domain}"
    kc_user = kc.user(email, password=True)
    kc.add_member(kc_org, kc_user)
    lena = UserFactory(username="lena", email=email)
    UserOrganizationMappingFactory(user=lena, organization=org, keep_until_seen=True)

    login("support-sam")
    page.goto("/admin/support/console/")
    page.fill("input[name=q]", email)
    page.click("input[value=Find]")
    section = page.locator(f"#section-membership-{kc_org.alias}")
    assert section.get_attribute("data-status") == "error"
    assert section.locator("[data-code=password_blocks_idp]").is_visible()

    section.locator("a.fix-button[data-fix=delete_password]").click()
    page.wait_for_selector("text=Dry run: nothing has been written yet")
    assert kc.credential_types(kc_user) == ["password"]  # the preview only read Keycloak
    page.click("#apply-button")
    page.wait_for_selector("text=Done: changes applied.")
    assert kc.credential_types(kc_user) == []
    page.click("#back-link")

    section = page.locator(f"#section-membership-{kc_org.alias}")
    assert section.locator("[data-code=password_blocks_idp]").count() == 0
    # What is left is the reminder that the learner must sign in again.
    assert section.get_attribute("data-status") == "warning"
    assert section.locator("[data-code=relogin_required]").is_visible()


def test_keycloak_down_degrades_only_its_section(
    keycloak_settings, support_user, login, page, amc_app
):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    keycloak_settings.KEYCLOAK_SERVER_URL = f"http://127.0.0.1:{closed}"
    org = OrganizationFactory(
        short_name="down",
        sso_organization_id="6f1e4f5a-0000-4000-8000-00000000000d",
        email_domains=["down.test"],
    )
    mia = UserFactory(username="mia", email="mia@down.test")
    UserOrganizationMappingFactory(user=mia, organization=org, is_amc_admin=True)

    login("support-sam")
    page.goto(f"/admin/support/console/{mia.pk}/")
    membership = page.locator("#section-membership-down")
    assert membership.get_attribute("data-status") == "error"
    assert membership.locator("[data-code=keycloak_unreachable]").is_visible()
    # The rest of the page still renders.
    assert page.locator("#section-amc").is_visible()
    assert page.locator("#console-history").is_visible()
