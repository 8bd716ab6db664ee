"""The customer portal: configurations (create, retrieve, update, list), sessions (create, with
the ``flow_data`` deep links Stripe checks). The pages at a session's and a login link's URL
(never Stripe's real UI) are ``portal_page``.

Each mode starts with the default configuration saving the portal settings in the Dashboard
leaves (``seed``).
"""

from __future__ import annotations

import copy
import time
from typing import Any

from local.stripe.core.errors import StripeError, check_url
from local.stripe.core.listing import LIST_PARAMS, list_page, where_boolean
from local.stripe.core.objects import merge, merge_metadata, new_id
from local.stripe.core.routing import Payload, StripeApi, retrieve, route
from local.stripe.core.shapes import INCLUDABLE
from local.stripe.core.store import ModeState, Store
from local.stripe.subscriptions import check_flow_subscription

FLOW_DETAIL_TYPES = (
    "subscription_cancel",
    "subscription_pause",
    "subscription_update",
    "subscription_update_confirm",
)


# --- the objects ---------------------------------------------------------------------------


def default_features() -> dict[str, Any]:
    """All portal features, present and disabled, with Stripe's defaults."""
    return {
        "customer_update": {"allowed_updates": [], "enabled": False},
        "invoice_history": {"enabled": False},
        "payment_method_update": {"enabled": False, "payment_method_configuration": None},
        "subscription_cancel": {
            "cancellation_reason": {"enabled": False, "options": []},
            "enabled": False,
            "mode": "at_period_end",
            "proration_behavior": "none",
        },
        # stripe 16.1.0: `duration` "Defaults to `interval_options` with a single one-month
        # option".
        "subscription_pause": {
            "duration": {
                "interval_options": [{"interval": "month", "interval_count": 1}],
                "type": "interval_options",
            },
            "enabled": False,
        },
        "subscription_update": {
            "billing_cycle_anchor": None,
            "default_allowed_updates": [],
            "enabled": False,
            "products": [],
            "proration_behavior": "none",
            "schedule_at_period_end": {"conditions": []},
            "trial_update_behavior": "end_trial",
        },
    }


def new_configuration(
    configuration_id: str, *, livemode: bool, created: int, is_default: bool = False
) -> dict[str, Any]:
    """A portal configuration with every field Stripe returns, before parameters are applied."""
    return {
        "id": configuration_id,
        "object": "billing_portal.configuration",
        "active": True,
        "application": None,
        "business_profile": {
            "headline": None,
            "privacy_policy_url": None,
            "terms_of_service_url": None,
        },
        "created": created,
        "default_return_url": None,
        "features": default_features(),
        "is_default": is_default,
        "livemode": livemode,
        "login_page": {"enabled": False, "url": None},
        "metadata": {},
        "name": None,
        "updated": created,
    }


def dashboard_default_configuration(
    configuration_id: str, *, livemode: bool, created: int
) -> dict[str, Any]:
    """The default configuration, as saving the portal settings in the Dashboard leaves it."""
    configuration = new_configuration(
        configuration_id, livemode=livemode, created=created, is_default=True
    )
    merge(
        configuration["features"],
        {
            "customer_update": {"allowed_updates": ["email", "address"], "enabled": True},
            "invoice_history": {"enabled": True},
            "payment_method_update": {"enabled": True},
        },
    )
    return configuration


def _fill_products(features: dict[str, Any]) -> None:
    products = features["subscription_update"].get("products") or []
    for product in products:
        quantity = {"enabled": False, "maximum": None, "minimum": 1}
        merge(quantity, product.get("adjustable_quantity") or {})
        product["adjustable_quantity"] = quantity
    duration = features["subscription_pause"]["duration"]
    if duration.get("type") == "indefinite":
        duration["interval_options"] = []  # the default's one-month option no longer applies
    for option in duration.get("interval_options") or []:
        option.setdefault("interval_count", 1)


def apply_configuration_params(
    configuration: dict[str, Any], params: dict[str, Any], *, login_url: str, updated: int
) -> None:
    """Apply create or update parameters to ``configuration`` in place."""
    for key, value in params.items():
        if key == "expand":
            continue
        if key == "metadata":
            configuration["metadata"] = merge_metadata(configuration["metadata"], value)
        elif key == "login_page":
            enabled = value["enabled"]
            configuration["login_page"] = {
                "enabled": enabled,
                "url": login_url if enabled else None,
            }
        else:
            merge(configuration, {key: value})
    _fill_products(configuration["features"])
    configuration["updated"] = updated


def build_flow(flow_data: dict[str, Any]) -> dict[str, Any]:
    """The session's ``flow`` as Stripe echoes ``flow_data``, with its defaults: the details of
    the subscription flows its published example has (null unless that is the flow's type), and
    a pause's detail only on a pause flow."""
    after = flow_data.get("after_completion") or {"type": "portal_homepage"}
    flow: dict[str, Any] = {
        "after_completion": {
            "hosted_confirmation": None,
            "redirect": None,
            "type": after["type"],
        },
        "subscription_cancel": None,
        "subscription_update": None,
        "subscription_update_confirm": None,
        "type": flow_data["type"],
    }
    if "hosted_confirmation" in after:
        custom = after["hosted_confirmation"].get("custom_message")
        flow["after_completion"]["hosted_confirmation"] = {"custom_message": custom}
    if "redirect" in after:
        flow["after_completion"]["redirect"] = {"return_url": after["redirect"]["return_url"]}
    for detail in FLOW_DETAIL_TYPES:
        if detail in flow_data:
            flow[detail] = _flow_detail(detail, flow_data[detail])
    return flow


def _flow_detail(detail: str, value: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(value)
    if detail == "subscription_cancel":
        result.setdefault("retention", None)
    if detail == "subscription_update_confirm":
        result["discounts"] = [
            {"coupon": None, "promotion_code": None, **item} for item in value.get("discounts", [])
        ]
        # Stripe's example echoes an item's id and price (not the quantity asked for)
        result["items"] = [
            {"id": item.get("id"), "price": item.get("price")} for item in value["items"]
        ]
    return result


def new_session(
    session_id: str,
    *,
    livemode: bool,
    created: int,
    customer: str,
    configuration: str,
    return_url: str | None,
    url: str,
    params: dict[str, Any],
) -> dict[str, Any]:
    """A portal session object."""
    return {
        "id": session_id,
        "object": "billing_portal.session",
        "configuration": configuration,
        "created": created,
        "customer": customer,
        "customer_account": None,
        "flow": build_flow(params["flow_data"]) if "flow_data" in params else None,
        "livemode": livemode,
        "locale": params.get("locale"),
        "on_behalf_of": params.get("on_behalf_of"),
        "return_url": return_url,
        "url": url,
    }


def default_configuration(state: ModeState) -> dict[str, Any]:
    """The configuration sessions use when they name none."""
    return next(c for c in state.configurations.values() if c["is_default"])


def seed(store: Store) -> None:
    """Each mode's default configuration, as the Dashboard leaves it."""
    for state in store.modes.values():
        default = dashboard_default_configuration(
            new_id("bpc"), livemode=state.livemode, created=int(time.time())
        )
        state.configurations[default["id"]] = default


# --- the API -------------------------------------------------------------------------------


def _login_url(api: StripeApi) -> str:
    return f"{api.base_url()}/p/login/{new_id('test').removeprefix('test_')}"


def create_configuration(api: StripeApi, state: ModeState, params: Payload) -> tuple[int, Payload]:
    """``POST /v1/billing_portal/configurations``."""
    now = int(time.time())
    configuration = new_configuration(new_id("bpc"), livemode=state.livemode, created=now)
    apply_configuration_params(configuration, params, login_url=_login_url(api), updated=now)
    state.configurations[configuration["id"]] = configuration
    return 200, configuration


def update_configuration(
    api: StripeApi, state: ModeState, params: Payload, id: str
) -> tuple[int, Payload]:
    """``POST /v1/billing_portal/configurations/{id}``."""
    configuration = api.store.require(state, "configurations", id, param="id", status=404)
    login_url = configuration["login_page"]["url"] or _login_url(api)
    apply_configuration_params(configuration, params, login_url=login_url, updated=int(time.time()))
    return 200, configuration


def list_configurations(api: StripeApi, state: ModeState, params: Payload) -> tuple[int, Payload]:
    """``GET /v1/billing_portal/configurations`` with ``active`` / ``is_default`` filters."""
    configurations = list(state.configurations.values())
    configurations = where_boolean(configurations, params, "active", "is_default")
    return 200, list_page("/v1/billing_portal/configurations", configurations, params)


def create_session(api: StripeApi, state: ModeState, params: Payload) -> tuple[int, Payload]:
    """``POST /v1/billing_portal/sessions``."""
    if "customer_account" in params:
        raise StripeError(
            400,
            "The Stripe stand-in does not support customer_account; pass customer.",
            param="customer_account",
        )
    if "customer" not in params:
        raise StripeError(
            400, "Missing required param: customer.", code="parameter_missing", param="customer"
        )
    customer = api.store.require(
        state, "customers", params["customer"], param="customer", status=400
    )
    if "configuration" in params:
        configuration = api.store.require(
            state, "configurations", params["configuration"], param="configuration", status=400
        )
        if not configuration["active"]:
            raise StripeError(
                400,
                f"The configuration {configuration['id']} is not active. Activate it or pass "
                "a different configuration.",
                param="configuration",
            )
    else:
        configuration = default_configuration(state)
    _check_flow(params.get("flow_data"))
    _check_flow_enabled(params.get("flow_data"), configuration)
    check_flow_subscription(state, params.get("flow_data"), customer["id"])
    return_url = params.get("return_url") or configuration["default_return_url"]
    if not return_url:
        raise StripeError(
            400,
            "You must provide a return_url when creating a portal session, or set a "
            "default return URL (default_return_url) on the portal configuration "
            f"{configuration['id']}.",
            param="return_url",
        )
    check_url(return_url, "return_url")
    session_id = new_id("bps")
    session = new_session(
        session_id,
        livemode=state.livemode,
        created=int(time.time()),
        customer=customer["id"],
        configuration=configuration["id"],
        return_url=return_url,
        url=f"{api.base_url()}/p/session/{session_id}",
        params=params,
    )
    state.sessions[session_id] = session
    return 200, session


def _check_flow(flow_data: Payload | None) -> None:
    """Rules Stripe applies to ``flow_data`` beyond the parameter schema."""
    if flow_data is None:
        return
    flow_type = flow_data["type"]
    if flow_type in FLOW_DETAIL_TYPES and flow_type not in flow_data:
        param = f"flow_data[{flow_type}]"
        raise StripeError(
            400, f"Missing required param: {param}.", code="parameter_missing", param=param
        )
    after = flow_data.get("after_completion") or {}
    if after.get("type") == "redirect":
        if "redirect" not in after:
            param = "flow_data[after_completion][redirect]"
            raise StripeError(
                400, f"Missing required param: {param}.", code="parameter_missing", param=param
            )
        check_url(
            after["redirect"]["return_url"], "flow_data[after_completion][redirect][return_url]"
        )


# The configuration feature each deep link needs; Stripe refuses a flow whose feature is off.
FLOW_FEATURE = {
    "customer_update": "customer_update",
    "payment_method_update": "payment_method_update",
    "subscription_cancel": "subscription_cancel",
    "subscription_pause": "subscription_pause",
    "subscription_update": "subscription_update",
    "subscription_update_confirm": "subscription_update",
}


def _check_flow_enabled(flow_data: Payload | None, configuration: Payload) -> None:
    """Stripe refuses a deep link into a feature the configuration does not enable."""
    if flow_data is None:
        return
    flow_type = flow_data["type"]
    feature = FLOW_FEATURE.get(flow_type)
    if feature is not None and not configuration["features"][feature]["enabled"]:
        raise StripeError(
            400,
            f"You can't create a portal session with flow_data[type]={flow_type} because "
            f"the configuration {configuration['id']} does not enable features[{feature}].",
            param="flow_data[type]",
        )


# What a configuration's requests may expand: its products, which Stripe returns only then.
_EXPANDS = INCLUDABLE["billing_portal.configuration"]

ROUTES = (
    route(
        "POST",
        "/v1/billing_portal/configurations",
        create_configuration,
        schema="POST /v1/billing_portal/configurations",
        expands=_EXPANDS,
    ),
    route(
        "GET",
        "/v1/billing_portal/configurations",
        list_configurations,
        query=frozenset(LIST_PARAMS | {"active", "is_default"}),
        expands=tuple(f"data.{path}" for path in _EXPANDS),
    ),
    route(
        "GET",
        "/v1/billing_portal/configurations/{id}",
        retrieve("configurations"),
        expands=_EXPANDS,
    ),
    route(
        "POST",
        "/v1/billing_portal/configurations/{id}",
        update_configuration,
        schema="POST /v1/billing_portal/configurations/{configuration}",
        expands=_EXPANDS,
    ),
    route(
        "POST",
        "/v1/billing_portal/sessions",
        create_session,
        schema="POST /v1/billing_portal/sessions",
    ),
)
