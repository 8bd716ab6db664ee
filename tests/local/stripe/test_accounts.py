"""The account and connected accounts' branding, through the unmodified stripe SDK."""

from __future__ import annotations

import io

import pytest
import stripe

from tests.support.images import png

pytestmark = pytest.mark.integration


@pytest.fixture
def account(fresh_stripe_standin) -> str:
    return fresh_stripe_standin.create_connected_account()["id"]


def uploaded(sdk, purpose: str, account: str | None = None) -> str:
    content = io.BytesIO(png(128, 128))
    content.name = "brand.png"
    options = {"stripe_account": account} if account else None
    return sdk.v1.files.create(params={"purpose": purpose, "file": content}, options=options).id


def brand(sdk, account: str, **branding):
    return sdk.v1.accounts.update(account, params={"settings": {"branding": branding}})


def test_the_own_account_starts_without_branding(sdk):
    branding = sdk.v1.accounts.retrieve_current().settings.branding.to_dict()
    assert branding == dict.fromkeys(("icon", "logo", "primary_color", "secondary_color"))


def test_a_connected_account_can_be_retrieved(sdk, account):
    found = sdk.v1.accounts.retrieve(account)
    assert (found.id, found.object) == (account, "account")


def test_the_own_account_read_as_a_connected_one_is_that_account(sdk, account):
    assert sdk.v1.accounts.retrieve_current(options={"stripe_account": account}).id == account


def test_a_connected_accounts_branding_is_set_through_the_accounts_api(sdk, account):
    icon = uploaded(sdk, "business_icon", account)
    logo = uploaded(sdk, "business_logo", account)
    updated = brand(sdk, account, icon=icon, logo=logo, primary_color="#0A2540")
    assert updated.settings.branding.to_dict() == {
        "icon": icon,
        "logo": logo,
        "primary_color": "#0A2540",
        "secondary_color": None,
    }
    assert sdk.v1.accounts.retrieve(account).settings.branding.icon == icon


def test_a_branding_colour_must_be_a_css_hex_colour(sdk, account):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        brand(sdk, account, secondary_color="navy")
    assert caught.value.param == "settings[branding][secondary_color]"


def test_a_branding_file_must_exist(sdk, account):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        brand(sdk, account, icon="file_DoesNotExist01")
    assert (caught.value.code, caught.value.param) == (
        "resource_missing",
        "settings[branding][icon]",
    )


def test_a_branding_file_must_have_the_fields_purpose(sdk, account):
    logo = uploaded(sdk, "business_logo", account)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        brand(sdk, account, icon=logo)
    assert "needs a file uploaded with purpose business_icon" in caught.value.user_message


def test_account_parameters_other_than_branding_are_unknown_here(sdk, account):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.accounts.update(account, params={"business_profile": {"name": "Other"}})
    assert caught.value.code == "parameter_unknown"


def test_an_unknown_connected_account_is_404(sdk):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.accounts.retrieve("acct_DoesNotExist01")
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")


def test_endpoints_that_cannot_act_as_a_connected_account_say_so(sdk, account):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.customers.create(options={"stripe_account": account})
    assert "does not act as a connected account" in caught.value.user_message
