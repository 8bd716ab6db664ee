"""The stand-in answers in Stripe's shapes: every object it returns, held against Stripe's own.

Each object is made with real API calls and read back over HTTP from the running stand-in, as
JSON, then compared at every nesting level with Stripe's published example of its type
(`schema/stripe-fixtures.json`, see `tools/stripe_fixtures.py`): no field Stripe's example lacks,
none it has left out, except the differences `local.stripe.core.shapes.KNOWN_DIFFERENCES` lists
with their reasons. Fields Stripe returns only when expanded are absent unless expanded, and an
expandable field is an id unless expanded.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import stripe

from local.stripe import StandinControl
from local.stripe.core.shapes import INCLUDABLE, KNOWN_DIFFERENCES
from tests.local.stripe.shape_check import Difference, differences, error_differences
from tests.support.images import png

pytestmark = pytest.mark.integration

PRODUCTS = "features.subscription_update.products"
ADDRESS = {"line1": "1 Main St", "city": "Lyon", "postal_code": "69001", "country": "FR"}


class Api:
    """Raw JSON over HTTP from the stand-in, with the real SDK's encoding of parameters."""

    def __init__(self, standin: StandinControl) -> None:
        self.standin = standin
        self.sdk = standin.client(max_network_retries=0)

    def call(self, method: str, path: str, **params: Any) -> dict[str, Any]:
        response = self.sdk.raw_request(method, path, **params)
        return json.loads(response.body)

    def post(self, path: str, **params: Any) -> dict[str, Any]:
        return self.call("post", path, **params)

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self.call("get", path, **params)

    def error(
        self, method: str, path: str, key: str | None, form: dict[str, str] | None
    ) -> tuple[int, Any]:
        """An error answer, raw: status and JSON body."""
        headers = {"Authorization": f"Bearer {key or self.standin.test_key}"}
        url = self.standin.url + path
        answer = requests.request(method, url, headers=headers, data=form, timeout=10)
        return answer.status_code, answer.json()


def make_objects(api: Api) -> dict[str, dict[str, Any]]:
    """One of every object the stand-in returns, each with as many fields set as it takes,
    read back over HTTP. Keys name the case; values are the JSON objects."""
    seen: dict[str, dict[str, Any]] = {}
    product = api.post(
        "/v1/products",
        name="Team",
        description="For teams",
        metadata={"key": "team"},
        images=["https://example.com/team.png"],
        marketing_features=[{"name": "Seats"}],
        package_dimensions={"height": 1, "length": 2, "weight": 3, "width": 4},
        shippable=False,
        statement_descriptor="TEAM",
        unit_label="seat",
        url="https://example.com/team",
    )
    seen["product (create)"] = product
    seen["product"] = api.get(f"/v1/products/{product['id']}")
    price = api.post(
        "/v1/prices",
        product=product["id"],
        currency="eur",
        unit_amount=900,
        recurring={"interval": "month"},
        nickname="Monthly",
        lookup_key="team-monthly",
        metadata={"key": "monthly"},
        transform_quantity={"divide_by": 5, "round": "up"},
    )
    seen["price (create)"] = price
    seen["price"] = api.get(f"/v1/prices/{price['id']}")
    seen["price (custom amount)"] = api.post(
        "/v1/prices",
        product=product["id"],
        currency="eur",
        custom_unit_amount={"enabled": True, "minimum": 500},
    )
    customer = api.post(
        "/v1/customers",
        email="ann@example.com",
        name="Ann",
        phone="+33100000000",
        description="Ann's team",
        address=ADDRESS,
        shipping={"name": "Ann", "phone": "+33100000000", "address": ADDRESS},
        preferred_locales=["fr"],
        invoice_settings={
            "footer": "Thanks",
            "custom_fields": [{"name": "VAT", "value": "FR1"}],
            "rendering_options": {"amount_tax_display": "include_inclusive_tax"},
        },
        metadata={"app_user_id": "u1"},
    )
    seen["customer (create)"] = customer
    seen["customer (update)"] = api.post(f"/v1/customers/{customer['id']}", email="b@example.com")
    seen["customer"] = api.get(f"/v1/customers/{customer['id']}")
    # A search result's envelope has no example of Stripe's; its items are customers.
    (seen["customer (search)"],) = api.get(
        "/v1/customers/search", query="metadata['app_user_id']:'u1'"
    )["data"]
    # What tools.adopt writes: one metadata key, the others kept.
    seen["customer (metadata update)"] = api.post(
        f"/v1/customers/{customer['id']}", metadata={"old_uid": "u-adopted"}
    )
    subscription = api.post(
        "/v1/subscriptions",
        customer=customer["id"],
        items=[{"price": price["id"], "quantity": 2, "metadata": {"seat": "a"}}],
        metadata={"app_user_id": "u1"},
    )
    seen["subscription (create)"] = subscription
    seen["subscription (update)"] = api.post(
        f"/v1/subscriptions/{subscription['id']}",
        cancel_at_period_end=True,
        pause_collection={"behavior": "void"},
    )
    seen["subscription"] = api.get(f"/v1/subscriptions/{subscription['id']}")
    configuration = api.post(
        "/v1/billing_portal/configurations",
        business_profile={
            "headline": "Acme",
            "privacy_policy_url": "https://example.com/privacy",
            "terms_of_service_url": "https://example.com/terms",
        },
        default_return_url="https://example.com/account",
        features={
            "customer_update": {"enabled": True, "allowed_updates": ["email", "address"]},
            "invoice_history": {"enabled": True},
            "payment_method_update": {"enabled": True},
            "subscription_cancel": {
                "enabled": True,
                "mode": "immediately",
                "cancellation_reason": {"enabled": True, "options": ["too_expensive"]},
            },
            "subscription_update": {
                "enabled": True,
                "default_allowed_updates": ["price", "quantity"],
                "products": [{"product": product["id"], "prices": [price["id"]]}],
                "schedule_at_period_end": {"conditions": [{"type": "decreasing_item_amount"}]},
            },
        },
        login_page={"enabled": True},
        metadata={"stack": "dev"},
    )
    seen["billing_portal.configuration (create)"] = configuration
    seen["billing_portal.configuration (update)"] = api.post(
        f"/v1/billing_portal/configurations/{configuration['id']}", name="Acme portal"
    )
    seen["billing_portal.configuration"] = api.get(
        f"/v1/billing_portal/configurations/{configuration['id']}"
    )
    item = seen["subscription"]["items"]["data"][0]
    seen["billing_portal.session (update confirm)"] = api.post(
        "/v1/billing_portal/sessions",
        customer=customer["id"],
        configuration=configuration["id"],
        return_url="https://example.com/account",
        locale="fr",
        flow_data={
            "type": "subscription_update_confirm",
            "subscription_update_confirm": {
                "subscription": subscription["id"],
                "items": [{"id": item["id"], "price": price["id"], "quantity": 3}],
            },
            "after_completion": {
                "type": "redirect",
                "redirect": {"return_url": "https://example.com/done"},
            },
        },
    )
    seen["billing_portal.session (cancel)"] = api.post(
        "/v1/billing_portal/sessions",
        customer=customer["id"],
        configuration=configuration["id"],
        flow_data={
            "type": "subscription_cancel",
            "subscription_cancel": {"subscription": subscription["id"]},
            "after_completion": {
                "type": "hosted_confirmation",
                "hosted_confirmation": {"custom_message": "Bye"},
            },
        },
    )
    seen["billing_portal.session"] = api.post(
        "/v1/billing_portal/sessions", customer=customer["id"], return_url="https://example.com/a"
    )
    checkout = {
        "mode": "subscription",
        "customer": customer["id"],
        "line_items": [{"price": price["id"], "quantity": 2}],
        "success_url": "https://example.com/done?checkout_session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://example.com/account",
        "client_reference_id": "u1",
        "subscription_data": {"metadata": {"app_user_id": "u1"}, "trial_period_days": 7},
        "allow_promotion_codes": True,
        "automatic_tax": {"enabled": True},
        "customer_update": {"address": "auto"},
        "billing_address_collection": "required",
        "consent_collection": {"terms_of_service": "required"},
        "locale": "fr",
    }
    seen["checkout.session (create)"] = api.post("/v1/checkout/sessions", **checkout)
    completed = api.post("/v1/checkout/sessions", **checkout)
    api.standin.complete_checkout_session(completed["id"])
    seen["checkout.session (complete)"] = api.get(f"/v1/checkout/sessions/{completed['id']}")
    expired = api.post("/v1/checkout/sessions", **checkout)
    seen["checkout.session (expire)"] = api.post(f"/v1/checkout/sessions/{expired['id']}/expire")
    seen["checkout.session"] = api.get(
        f"/v1/checkout/sessions/{seen['checkout.session (create)']['id']}"
    )
    endpoint = api.post(
        "/v1/webhook_endpoints",
        url="https://example.com/hook",
        enabled_events=["customer.subscription.updated"],
        description="App",
        metadata={"stack": "dev"},
    )
    seen["webhook_endpoint (create)"] = endpoint
    seen["webhook_endpoint"] = api.get(f"/v1/webhook_endpoints/{endpoint['id']}")
    seen["webhook_endpoint (update)"] = api.post(
        f"/v1/webhook_endpoints/{endpoint['id']}", disabled=True
    )
    feature = api.post(
        "/v1/entitlements/features", lookup_key="seats", name="Seats", metadata={"k": "v"}
    )
    seen["entitlements.feature (create)"] = feature
    seen["entitlements.feature"] = api.get(f"/v1/entitlements/features/{feature['id']}")
    features_path = f"/v1/products/{product['id']}/features"
    attached = api.post(features_path, entitlement_feature=feature["id"])
    seen["product_feature (create)"] = attached
    seen["product_feature"] = api.get(f"{features_path}/{attached['id']}")
    seen["list product features"] = api.get(features_path, limit=3)
    active = api.get("/v1/entitlements/active_entitlements", customer=customer["id"], limit=3)
    seen["list /v1/entitlements/active_entitlements"] = active
    (entitlement,) = active["data"]  # the subscription above is active: it grants the feature
    seen["entitlements.active_entitlement"] = api.get(
        f"/v1/entitlements/active_entitlements/{entitlement['id']}"
    )
    seen["deleted product_feature"] = api.call("delete", f"{features_path}/{attached['id']}")
    icon = io.BytesIO(png(8, 8))
    icon.name = "icon.png"
    uploaded = api.sdk.v1.files.create(params={"purpose": "business_icon", "file": icon})
    seen["file"] = api.get(f"/v1/files/{uploaded.id}")
    seen["account"] = api.get("/v1/account")
    for path in (
        "/v1/customers",
        "/v1/products",
        "/v1/prices",
        "/v1/subscriptions",
        "/v1/billing_portal/configurations",
        "/v1/events",
        "/v1/webhook_endpoints",
        "/v1/checkout/sessions",
        "/v1/entitlements/features",
    ):
        seen[f"list {path}"] = api.get(path, limit=3)
    # tools.adopt reads every page: the next page after a cursor has the same envelope.
    first = api.get("/v1/customers", limit=1)
    seen["list /v1/customers (starting_after)"] = api.get(
        "/v1/customers", limit=1, starting_after=first["data"][0]["id"]
    )
    seen["deleted webhook_endpoint"] = api.call("delete", f"/v1/webhook_endpoints/{endpoint['id']}")
    seen["deleted customer (delete)"] = api.call("delete", f"/v1/customers/{customer['id']}")
    seen["deleted customer"] = api.get(f"/v1/customers/{customer['id']}")
    for event in api.get("/v1/events", limit=100)["data"]:
        seen.setdefault(f"event {event['type']}", api.get(f"/v1/events/{event['id']}"))
    return seen


@pytest.fixture(scope="module")
def made(stripe_standin: StandinControl) -> Iterator[tuple[Api, dict[str, dict[str, Any]]]]:
    stripe_standin.reset()
    api = Api(stripe_standin)
    yield api, make_objects(api)


CASES = [
    "product (create)",
    "product",
    "price (create)",
    "price",
    "price (custom amount)",
    "customer (create)",
    "customer (update)",
    "customer (metadata update)",
    "customer",
    "customer (search)",
    "subscription (create)",
    "subscription (update)",
    "subscription",
    "billing_portal.configuration (create)",
    "billing_portal.configuration (update)",
    "billing_portal.configuration",
    "billing_portal.session (update confirm)",
    "billing_portal.session (cancel)",
    "billing_portal.session",
    "checkout.session (create)",
    "checkout.session (complete)",
    "checkout.session (expire)",
    "checkout.session",
    "webhook_endpoint (create)",
    "webhook_endpoint",
    "webhook_endpoint (update)",
    "file",
    "account",
    "event customer.created",
    "event customer.updated",
    "event customer.subscription.created",
    "event customer.subscription.updated",
    "event customer.subscription.deleted",
    "event customer.deleted",
    "event checkout.session.completed",
    "event checkout.session.expired",
    "event entitlements.active_entitlement_summary.updated",
    "entitlements.feature (create)",
    "entitlements.feature",
    "product_feature (create)",
    "product_feature",
    "list product features",
    "list /v1/entitlements/active_entitlements",
    "list /v1/entitlements/features",
    "entitlements.active_entitlement",
    "deleted product_feature",
    "list /v1/customers",
    "list /v1/customers (starting_after)",
    "list /v1/products",
    "list /v1/prices",
    "list /v1/subscriptions",
    "list /v1/billing_portal/configurations",
    "list /v1/events",
    "list /v1/webhook_endpoints",
    "list /v1/checkout/sessions",
    "deleted webhook_endpoint",
    "deleted customer (delete)",
    "deleted customer",
]


def unexplained(found: list[Difference]) -> list[str]:
    return [str(d) for d in found if d.key not in KNOWN_DIFFERENCES]


@pytest.mark.parametrize("case", CASES)
def test_the_object_has_exactly_the_fields_of_stripes_example(made, case):
    _, objects = made
    found = differences(objects[case])
    assert unexplained(found) == [], (
        f"{case}: differences from Stripe's example, not in shapes.KNOWN_DIFFERENCES"
    )


def test_every_known_difference_is_still_one(made):
    # A listed difference the stand-in no longer has is a stale excuse: take it out.
    _, objects = made
    seen = {d.key for case in CASES for d in differences(objects[case])}
    assert sorted(set(KNOWN_DIFFERENCES) - seen) == []


@pytest.mark.parametrize(
    ("method", "path", "key", "form"),
    [
        ("GET", "/v1/customers/cus_DoesNotExist0", None, None),  # 404 resource_missing
        ("GET", "/v1/nothing_here", None, None),  # 404 unrecognized URL
        ("GET", "/v1/customers?limit=1000", None, None),  # 400 out of range
        ("GET", "/v1/customers", "not_a_key", None),  # 401
        ("POST", "/v1/customers", None, {"bogus": "1"}),  # 400 parameter_unknown
    ],
)
def test_an_error_body_has_only_the_fields_of_stripes_error_object(made, method, path, key, form):
    api, _ = made
    status, body = api.error(method, path, key, form)
    assert status >= 400
    assert error_differences(body) == [], f"{method} {path}: {body}"


def test_a_rate_limited_request_is_stripes_429_with_only_the_error_objects_fields(made):
    api, _ = made
    api.standin.set_rate_limit(1)
    try:
        answers = [api.error("GET", "/v1/customers", None, None) for _ in range(3)]
    finally:
        api.standin.set_rate_limit(None)
    limited = [body for status, body in answers if status == 429]
    assert limited, answers
    assert limited[0]["error"]["type"] == "invalid_request_error"
    assert limited[0]["error"]["code"] == "rate_limit"
    assert error_differences(limited[0]) == [], limited[0]


def test_a_portal_configuration_has_no_products_unless_expanded(made):
    api, objects = made
    configuration_id = objects["billing_portal.configuration"]["id"]
    plain = api.get(f"/v1/billing_portal/configurations/{configuration_id}")
    answers = {
        "retrieve": plain,
        "create": objects["billing_portal.configuration (create)"],
        "update": objects["billing_portal.configuration (update)"],
    }
    for request, answer in answers.items():
        assert "products" not in answer["features"]["subscription_update"], request


def test_a_portal_configuration_expanded_has_its_products_in_stripes_shape(made):
    api, objects = made
    configuration_id = objects["billing_portal.configuration"]["id"]
    expanded = api.get(f"/v1/billing_portal/configurations/{configuration_id}", expand=[PRODUCTS])
    (product,) = expanded["features"]["subscription_update"]["products"]
    assert product["product"] == objects["product"]["id"]
    assert differences(expanded, expanded=[PRODUCTS]) == differences(
        objects["billing_portal.configuration"]
    )


def test_a_listed_portal_configuration_has_its_products_when_the_list_expands_them(made):
    api, objects = made
    page = api.get("/v1/billing_portal/configurations", expand=[f"data.{PRODUCTS}"], limit=100)
    (mine,) = [c for c in page["data"] if c["id"] == objects["billing_portal.configuration"]["id"]]
    assert mine["features"]["subscription_update"]["products"][0]["prices"] == [
        objects["price"]["id"]
    ]
    plain = api.get("/v1/billing_portal/configurations", limit=100)
    assert all("products" not in c["features"]["subscription_update"] for c in plain["data"])


def test_an_update_that_expands_products_answers_with_them(made):
    api, objects = made
    configuration_id = objects["billing_portal.configuration"]["id"]
    updated = api.post(
        f"/v1/billing_portal/configurations/{configuration_id}", name="Again", expand=[PRODUCTS]
    )
    (product,) = updated["features"]["subscription_update"]["products"]
    assert product["product"] == objects["product"]["id"]


def test_an_expansion_the_stand_in_cannot_make_is_refused_with_a_clear_400(made):
    api, objects = made
    with pytest.raises(stripe.InvalidRequestError) as caught:
        api.get(f"/v1/subscriptions/{objects['subscription']['id']}", expand=["customer"])
    assert (caught.value.http_status, caught.value.param) == (400, "expand")
    assert "does not expand customer" in str(caught.value.user_message)


def test_the_includable_fields_are_the_ones_stripes_example_lacks():
    # The stand-in leaves out exactly what Stripe's own example of the object leaves out.
    from tests.local.stripe.shape_check import fixtures

    for kind, paths in INCLUDABLE.items():
        example = fixtures()["resources"][kind]
        for path in paths:
            *parents, last = path.split(".")
            for key in parents:
                example = example[key]
            assert last not in example, f"{kind}: Stripe's example has {path}"
