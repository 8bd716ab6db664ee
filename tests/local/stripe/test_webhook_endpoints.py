"""Webhook endpoints through the unmodified stripe SDK: created (secret once), listed, updated."""

from __future__ import annotations

import pytest
import stripe

pytestmark = pytest.mark.integration

EVENTS = ["customer.subscription.updated", "customer.deleted"]


@pytest.fixture
def endpoint(sdk):
    params = {
        "url": "https://example.com/hook",
        "enabled_events": EVENTS,
        "metadata": {"stack": "dev"},
        "api_version": "2026-10-28.endive",
    }
    return sdk.v1.webhook_endpoints.create(params=params)


def test_create_returns_the_signing_secret_and_stripes_defaults(endpoint):
    assert endpoint.id.startswith("we_")
    assert endpoint.secret.startswith("whsec_")
    assert (endpoint.status, endpoint.url, endpoint.enabled_events) == (
        "enabled",
        "https://example.com/hook",
        EVENTS,
    )
    assert endpoint.api_version == "2026-10-28.endive"
    assert endpoint.livemode is False


def test_retrieve_and_list_never_show_the_secret(sdk, endpoint):
    found = sdk.v1.webhook_endpoints.retrieve(endpoint.id)
    assert "secret" not in found.to_dict()
    listed = sdk.v1.webhook_endpoints.list().data
    assert [item.id for item in listed] == [endpoint.id]
    assert "secret" not in listed[0].to_dict()
    assert listed[0].metadata.to_dict() == {"stack": "dev"}


def test_update_changes_url_events_and_status(sdk, endpoint):
    params = {"url": "https://example.com/other", "enabled_events": ["*"], "disabled": True}
    updated = sdk.v1.webhook_endpoints.update(endpoint.id, params=params)
    assert (updated.url, updated.enabled_events, updated.status) == (
        "https://example.com/other",
        ["*"],
        "disabled",
    )


def test_delete_removes_it(sdk, endpoint):
    assert sdk.v1.webhook_endpoints.delete(endpoint.id).deleted is True
    with pytest.raises(stripe.InvalidRequestError) as raised:
        sdk.v1.webhook_endpoints.retrieve(endpoint.id)
    assert raised.value.code == "resource_missing"


def test_an_unknown_event_type_or_a_bad_url_is_refused(sdk):
    for params in (
        {"url": "https://example.com/hook", "enabled_events": ["customer.exploded"]},
        {"url": "not a url", "enabled_events": EVENTS},
    ):
        with pytest.raises(stripe.InvalidRequestError):
            sdk.v1.webhook_endpoints.create(params=params)
