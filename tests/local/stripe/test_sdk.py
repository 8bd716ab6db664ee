"""The unmodified stripe SDK works against the stand-in by changing only its base URL."""

from __future__ import annotations

import pytest
import stripe

from tests.support.stripe_objects import every_flow_configuration, monthly_price

FEATURES = {"invoice_history": {"enabled": True}}


def test_customer_created_through_the_sdk_can_be_retrieved(sdk):
    created = sdk.v1.customers.create(
        params={"email": "ann@example.test", "metadata": {"app_user_id": "u1"}}
    )
    fetched = sdk.v1.customers.retrieve(created.id)
    assert created.id.startswith("cus_")
    assert (fetched.id, fetched.email, fetched.metadata["app_user_id"]) == (
        created.id,
        "ann@example.test",
        "u1",
    )
    assert fetched.livemode is False


def test_customer_update_merges_metadata_and_empty_string_unsets(sdk):
    customer = sdk.v1.customers.create(params={"metadata": {"a": "1", "b": "2"}, "name": "Ann"})
    updated = sdk.v1.customers.update(
        customer.id, params={"metadata": {"b": "", "c": "3"}, "name": "", "email": "x@y.test"}
    )
    assert updated.metadata.to_dict() == {"a": "1", "c": "3"}
    assert updated.name is None
    assert updated.email == "x@y.test"


def test_deleted_customer_is_a_deleted_stub_on_retrieve(sdk):
    customer = sdk.v1.customers.create()
    deleted = sdk.v1.customers.delete(customer.id)
    fetched = sdk.v1.customers.retrieve(customer.id)
    assert deleted.deleted is True
    assert fetched.to_dict() == {"id": customer.id, "object": "customer", "deleted": True}


def test_updating_a_deleted_customer_is_resource_missing_on_id(sdk):
    customer = sdk.v1.customers.create()
    sdk.v1.customers.delete(customer.id)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.customers.update(customer.id, params={"name": "x"})
    assert (caught.value.http_status, caught.value.code, caught.value.param) == (
        404,
        "resource_missing",
        "id",
    )


def test_unknown_customer_is_404_resource_missing(sdk):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.customers.retrieve("cus_doesnotexist")
    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"
    assert "No such customer: 'cus_doesnotexist'" in str(caught.value.user_message)


def test_live_key_creates_live_objects_invisible_to_test_keys(fresh_stripe_standin):
    live = fresh_stripe_standin.client(fresh_stripe_standin.live_key, max_network_retries=0)
    test = fresh_stripe_standin.client(max_network_retries=0)
    customer = live.v1.customers.create()
    assert customer.livemode is True
    with pytest.raises(stripe.InvalidRequestError) as caught:
        test.v1.customers.retrieve(customer.id)
    assert "a similar object exists in live mode" in str(caught.value.user_message)


def test_customers_list_newest_first_with_limit(sdk):
    ids = [sdk.v1.customers.create().id for _ in range(3)]
    page = sdk.v1.customers.list(params={"limit": 2})
    assert [c.id for c in page.data] == [ids[2], ids[1]]
    assert page.has_more is True


def test_customers_search_by_app_user_id_metadata(sdk):
    wanted = sdk.v1.customers.create(params={"metadata": {"app_user_id": "u-42"}})
    sdk.v1.customers.create(params={"metadata": {"app_user_id": "u-43"}})
    found = sdk.v1.customers.search(params={"query": "metadata['app_user_id']:'u-42'"})
    assert [c.id for c in found.data] == [wanted.id]


def test_new_configuration_has_every_feature_disabled_unless_given(sdk):
    configuration = sdk.v1.billing_portal.configurations.create(
        params={"features": FEATURES, "expand": ["features.subscription_update.products"]}
    )
    features = configuration.features
    assert configuration.id.startswith("bpc_")
    assert (configuration.active, configuration.is_default) == (True, False)
    assert features.invoice_history.enabled is True
    for name in ("customer_update", "payment_method_update", "subscription_cancel"):
        assert features[name].enabled is False, name
    assert features.subscription_update.products == []
    assert configuration.login_page.to_dict() == {"enabled": False, "url": None}


def test_configuration_update_changes_only_what_is_given(sdk):
    created = sdk.v1.billing_portal.configurations.create(
        params={"features": FEATURES, "business_profile": {"headline": "Old"}}
    )
    updated = sdk.v1.billing_portal.configurations.update(
        created.id,
        params={
            "business_profile": {"headline": "New"},
            "features": {"subscription_cancel": {"enabled": True, "mode": "immediately"}},
        },
    )
    fetched = sdk.v1.billing_portal.configurations.retrieve(created.id)
    assert fetched.business_profile.headline == "New"
    assert fetched.features.invoice_history.enabled is True
    assert fetched.features.subscription_cancel.mode == "immediately"
    assert updated.updated >= created.updated


def test_configuration_list_filters_by_is_default_and_active(sdk):
    created = sdk.v1.billing_portal.configurations.create(params={"features": FEATURES})
    sdk.v1.billing_portal.configurations.update(created.id, params={"active": False})
    defaults = sdk.v1.billing_portal.configurations.list(params={"is_default": True}).data
    inactive = sdk.v1.billing_portal.configurations.list(params={"active": False}).data
    assert len(defaults) == 1 and defaults[0].is_default is True
    assert [c.id for c in inactive] == [created.id]


def test_session_url_points_at_the_stand_in_portal_page(sdk, fresh_stripe_standin):
    customer = sdk.v1.customers.create()
    session = sdk.v1.billing_portal.sessions.create(
        params={"customer": customer.id, "return_url": "https://app.example.test/billing"}
    )
    assert session.id.startswith("bps_")
    assert session.url == f"{fresh_stripe_standin.url}/p/session/{session.id}"
    assert session.return_url == "https://app.example.test/billing"
    assert session.flow is None


def test_session_return_url_defaults_to_the_configuration_default(sdk):
    customer = sdk.v1.customers.create()
    configuration = sdk.v1.billing_portal.configurations.create(
        params={"features": FEATURES, "default_return_url": "https://app.example.test/home"}
    )
    session = sdk.v1.billing_portal.sessions.create(
        params={"customer": customer.id, "configuration": configuration.id}
    )
    assert session.return_url == "https://app.example.test/home"
    assert session.configuration == configuration.id


def test_session_without_any_return_url_is_400_naming_default_return_url(sdk):
    customer = sdk.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.billing_portal.sessions.create(params={"customer": customer.id})
    assert caught.value.http_status == 400
    assert "default_return_url" in str(caught.value.user_message)


def test_session_echoes_flow_data_into_flow(sdk):
    customer = sdk.v1.customers.create()
    subscription = sdk.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": monthly_price(sdk)}]}
    )
    session = sdk.v1.billing_portal.sessions.create(
        params={
            "customer": customer.id,
            "configuration": every_flow_configuration(sdk),
            "return_url": "https://app.example.test/",
            "flow_data": {
                "type": "subscription_cancel",
                "subscription_cancel": {"subscription": subscription.id},
                "after_completion": {
                    "type": "redirect",
                    "redirect": {"return_url": "https://app.example.test/done"},
                },
            },
        }
    )
    assert session.flow.type == "subscription_cancel"
    assert session.flow.subscription_cancel.subscription == subscription.id
    assert session.flow.after_completion.redirect.return_url == "https://app.example.test/done"


def test_session_flow_type_without_its_details_is_parameter_missing(sdk):
    customer = sdk.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.billing_portal.sessions.create(
            params={
                "customer": customer.id,
                "return_url": "https://app.example.test/",
                "flow_data": {"type": "subscription_update"},
            }
        )
    assert (caught.value.code, caught.value.param) == (
        "parameter_missing",
        "flow_data[subscription_update]",
    )


def test_session_for_a_deleted_customer_is_resource_missing_on_customer(sdk, fresh_stripe_standin):
    customer = sdk.v1.customers.create()
    fresh_stripe_standin.delete_customer(customer.id)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.billing_portal.sessions.create(
            params={"customer": customer.id, "return_url": "https://app.example.test/"}
        )
    assert (caught.value.code, caught.value.param) == ("resource_missing", "customer")


def test_session_with_an_inactive_configuration_is_400(sdk):
    customer = sdk.v1.customers.create()
    configuration = sdk.v1.billing_portal.configurations.create(params={"features": FEATURES})
    sdk.v1.billing_portal.configurations.update(configuration.id, params={"active": False})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.billing_portal.sessions.create(
            params={
                "customer": customer.id,
                "configuration": configuration.id,
                "return_url": "https://app.example.test/",
            }
        )
    assert caught.value.param == "configuration"


def test_session_with_an_unknown_configuration_is_resource_missing(sdk):
    customer = sdk.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.billing_portal.sessions.create(
            params={
                "customer": customer.id,
                "configuration": "bpc_nope",
                "return_url": "https://app.example.test/",
            }
        )
    assert (caught.value.code, caught.value.param) == ("resource_missing", "configuration")


def test_unknown_feature_parameter_through_the_sdk_is_parameter_unknown(sdk):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.billing_portal.configurations.create(
            params={"features": {"customer_update": {"enabled": True, "bogus": True}}}
        )
    assert (caught.value.http_status, caught.value.code, caught.value.param) == (
        400,
        "parameter_unknown",
        "features[customer_update][bogus]",
    )


def test_bad_flow_enum_through_the_sdk_names_the_param(sdk):
    customer = sdk.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.billing_portal.sessions.create(
            params={
                "customer": customer.id,
                "return_url": "https://app.example.test/",
                "flow_data": {"type": "payment_method_update", "after_completion": {"type": "x"}},
            }
        )
    assert caught.value.param == "flow_data[after_completion][type]"


def test_missing_features_through_the_sdk_is_parameter_missing(sdk):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.billing_portal.configurations.create(params={"business_profile": {"headline": "x"}})
    assert (caught.value.code, caught.value.param) == ("parameter_missing", "features")


def test_account_branding_set_through_the_control_api(sdk, fresh_stripe_standin):
    fresh_stripe_standin.set_branding(primary_color="#123456", icon="file_icon")
    account = sdk.v1.accounts.retrieve_current()
    assert account.settings.branding.primary_color == "#123456"
    assert account.settings.branding.icon == "file_icon"
    assert account.business_profile.name
