"""The stand-in's schema validator (pure): what Stripe would accept, and how it names problems."""

from __future__ import annotations

import pytest

from local.stripe.core.forms import decode_form
from local.stripe.core.validation import ParamError, load_schema, parse_type, validate

CONFIGURATIONS = "POST /v1/billing_portal/configurations"
CONFIGURATION_UPDATE = "POST /v1/billing_portal/configurations/{configuration}"
SESSIONS = "POST /v1/billing_portal/sessions"
CUSTOMERS = "POST /v1/customers"
MINIMAL_FEATURES = "features[invoice_history][enabled]=true"


def rejected(endpoint: str, body: str, **options: bool) -> ParamError:
    with pytest.raises(ParamError) as caught:
        validate(endpoint, decode_form(body), **options)
    return caught.value


def test_schema_loads_every_endpoint_the_stand_in_serves():
    assert set(load_schema()) == {
        CONFIGURATIONS,
        CONFIGURATION_UPDATE,
        SESSIONS,
        CUSTOMERS,
        "POST /v1/products",
        "POST /v1/products/{product}/features",
        "POST /v1/entitlements/features",
        "POST /v1/prices",
        "POST /v1/files",
        "POST /v1/subscriptions",
        "POST /v1/subscriptions/{subscription_exposed_id}",
        "DELETE /v1/subscriptions/{subscription_exposed_id}",
        "POST /v1/webhook_endpoints",
        "POST /v1/webhook_endpoints/{webhook_endpoint}",
        "POST /v1/accounts/{account}",
        "POST /v1/checkout/sessions",
        "POST /v1/checkout/sessions/{session}/expire",
    }


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("str", ("str", None, False)),
        ("''|str", ("str", None, True)),
        ("enum(open)|int", ("enum|int", None, False)),
        ("''|list<enum(open)>", ("list", "enum", True)),
        ("list<object>", ("list", "object", False)),
        ("''|map|UntypedStripeObject", ("map", None, True)),
        ("enum(open)", ("enum", None, False)),
        ("float", ("float", None, False)),
        ("decimal", ("decimal", None, False)),
        ("file", ("file", None, False)),
        ("enum|int", ("enum|int", None, False)),
        ("map<object>|UntypedStripeObject<object>", ("hash", None, False)),
    ],
)
def test_schema_types_parse_into_kind_item_and_empty_ok(text, parsed):
    assert parse_type(text) == parsed


def test_minimal_configuration_is_accepted_and_booleans_become_bool():
    params = validate(CONFIGURATIONS, decode_form(MINIMAL_FEATURES + "&metadata[team]=billing"))
    assert params == {
        "features": {"invoice_history": {"enabled": True}},
        "metadata": {"team": "billing"},
    }


def test_indexed_lists_become_lists_in_index_order():
    body = (
        "features[customer_update][enabled]=true"
        "&features[customer_update][allowed_updates][1]=address"
        "&features[customer_update][allowed_updates][0]=email"
    )
    params = validate(CONFIGURATIONS, decode_form(body))
    assert params["features"]["customer_update"]["allowed_updates"] == ["email", "address"]


def test_integers_become_int():
    body = (
        "features[subscription_pause][duration][type]=interval_options"
        "&features[subscription_pause][duration][interval_options][0][interval]=month"
        "&features[subscription_pause][duration][interval_options][0][interval_count]=3"
    )
    params = validate(CONFIGURATIONS, decode_form(body))
    option = params["features"]["subscription_pause"]["duration"]["interval_options"][0]
    assert option == {"interval": "month", "interval_count": 3}


def test_unknown_top_level_parameter_is_parameter_unknown():
    error = rejected(CUSTOMERS, "bogus=1")
    assert (error.code, error.param) == ("parameter_unknown", "bogus")
    assert error.message == "Received unknown parameter: bogus"


def test_unknown_nested_feature_parameter_is_named_with_brackets():
    error = rejected(CONFIGURATIONS, "features[customer_update][bogus]=1")
    assert (error.code, error.param) == ("parameter_unknown", "features[customer_update][bogus]")


def test_unknown_parameter_inside_a_list_item_is_named_with_its_index():
    body = (
        "features[subscription_update][products][0][product]=prod_1"
        "&features[subscription_update][products][0][prices][0]=price_1"
        "&features[subscription_update][products][0][bogus]=x"
    )
    error = rejected(CONFIGURATIONS, body)
    assert error.param == "features[subscription_update][products][0][bogus]"
    assert error.code == "parameter_unknown"


def test_unknown_flow_data_parameter_is_named_with_brackets():
    error = rejected(
        SESSIONS, "customer=cus_1&flow_data[type]=payment_method_update&flow_data[x]=1"
    )
    assert (error.code, error.param) == ("parameter_unknown", "flow_data[x]")


def test_bad_value_of_an_open_enum_names_the_parameter():
    error = rejected(
        CONFIGURATIONS,
        "features[subscription_cancel][enabled]=true&features[subscription_cancel][mode]=later",
    )
    assert error.param == "features[subscription_cancel][mode]"
    assert error.message.startswith("Invalid features[subscription_cancel][mode]: must be one of")
    assert "at_period_end or immediately" in error.message


def test_bad_value_of_a_closed_enum_names_the_parameter():
    body = (
        "customer=cus_1&flow_data[type]=subscription_cancel"
        "&flow_data[subscription_cancel][subscription]=sub_1"
        "&flow_data[subscription_cancel][retention][type]=discount"
        "&flow_data[subscription_cancel][retention][coupon_offer][coupon]=c"
    )
    error = rejected(SESSIONS, body)
    assert error.param == "flow_data[subscription_cancel][retention][type]"


def test_bad_enum_item_in_a_list_names_the_item():
    body = (
        "features[customer_update][enabled]=true"
        "&features[customer_update][allowed_updates][0]=email"
        "&features[customer_update][allowed_updates][1]=password"
    )
    error = rejected(CONFIGURATIONS, body)
    assert error.param == "features[customer_update][allowed_updates][1]"


def test_bad_flow_type_names_flow_data_type():
    error = rejected(SESSIONS, "customer=cus_1&flow_data[type]=teleport")
    assert error.param == "flow_data[type]"


def test_bad_locale_names_locale():
    assert rejected(SESSIONS, "customer=cus_1&locale=xx-YY").param == "locale"


def test_missing_top_level_required_parameter_is_parameter_missing():
    error = rejected(CONFIGURATIONS, "business_profile[headline]=Hi")
    assert (error.code, error.param) == ("parameter_missing", "features")
    assert error.message == "Missing required param: features."


def test_missing_required_child_of_a_present_parent_is_parameter_missing():
    error = rejected(CONFIGURATIONS, "features[customer_update][allowed_updates][0]=email")
    assert (error.code, error.param) == ("parameter_missing", "features[customer_update][enabled]")


def test_required_child_of_an_absent_parent_is_not_required():
    validate(CONFIGURATIONS, decode_form(MINIMAL_FEATURES))


def test_missing_required_field_of_a_list_item_names_the_item():
    body = (
        "features[subscription_update][enabled]=true"
        "&features[subscription_update][products][0][product]=prod_1"
        "&features[subscription_update][products][0][prices][0]=price_1"
        "&features[subscription_update][products][1][product]=prod_2"
    )
    error = rejected(CONFIGURATIONS, body)
    assert error.param == "features[subscription_update][products][1][prices]"
    assert error.code == "parameter_missing"


def test_missing_flow_type_is_parameter_missing():
    error = rejected(SESSIONS, "customer=cus_1&flow_data[after_completion][type]=portal_homepage")
    assert (error.code, error.param) == ("parameter_missing", "flow_data[type]")


def test_missing_redirect_url_in_flow_after_completion_is_parameter_missing():
    body = (
        "customer=cus_1&flow_data[type]=payment_method_update"
        "&flow_data[after_completion][type]=redirect&flow_data[after_completion][redirect][x]=1"
    )
    error = rejected(SESSIONS, body)
    assert error.param == "flow_data[after_completion][redirect][x]"


def test_non_integer_is_rejected_as_invalid_integer():
    body = (
        "features[subscription_pause][duration][type]=interval_options"
        "&features[subscription_pause][duration][interval_options][0][interval]=day"
        "&features[subscription_pause][duration][interval_options][0][interval_count]=two"
    )
    error = rejected(CONFIGURATIONS, body)
    assert error.code == "parameter_invalid_integer"
    assert (
        error.param == "features[subscription_pause][duration][interval_options][0][interval_count]"
    )


def test_non_boolean_is_rejected_naming_the_parameter():
    error = rejected(CONFIGURATIONS, "features[invoice_history][enabled]=yes")
    assert error.param == "features[invoice_history][enabled]"
    assert error.message == "Invalid boolean: yes"


def test_string_where_a_list_belongs_is_rejected():
    error = rejected(CUSTOMERS, "preferred_locales=en")
    assert error.param == "preferred_locales"
    assert "array" in error.message


def test_string_where_an_object_belongs_is_rejected():
    assert rejected(CONFIGURATIONS, "features=all").param == "features"


def test_hash_where_a_string_belongs_is_rejected():
    assert rejected(CUSTOMERS, "email[a]=b").param == "email"


def test_empty_string_unsets_a_field_that_allows_it():
    params = validate(CONFIGURATIONS, decode_form(MINIMAL_FEATURES + "&default_return_url="))
    assert params["default_return_url"] == ""


def test_empty_string_for_a_field_that_cannot_be_unset_is_rejected():
    error = rejected(CUSTOMERS, "email=")
    assert (error.code, error.param) == ("parameter_invalid_empty", "email")


def test_update_mode_lets_optional_fields_be_unset():
    assert validate(CUSTOMERS, decode_form("email=&name="), allow_unset=True) == {
        "email": "",
        "name": "",
    }


def test_metadata_accepts_any_keys_and_rejects_nested_values():
    assert validate(CUSTOMERS, decode_form("metadata[app_user_id]=u1&metadata[x]=y"))
    assert rejected(CUSTOMERS, "metadata[a][b]=c").param == "metadata[a]"


def test_metadata_value_longer_than_500_characters_is_rejected():
    error = rejected(CUSTOMERS, "metadata[k]=" + "v" * 501)
    assert error.param == "metadata[k]"


def test_configuration_update_uses_its_own_rows():
    params = validate(CONFIGURATION_UPDATE, decode_form("active=false"))
    assert params == {"active": False}
    assert rejected(CONFIGURATIONS, "active=false&" + MINIMAL_FEATURES).param == "active"


# ---------------------------------------------------------------------------- types added for
# products, prices and files


def test_a_float_parameter_becomes_a_float():
    params = {"name": "Box", "package_dimensions": _dimensions("1.5")}
    assert validate("POST /v1/products", params)["package_dimensions"]["height"] == 1.5


def test_a_float_parameter_that_is_not_a_number_is_rejected():
    error = refused("POST /v1/products", {"name": "Box", "package_dimensions": _dimensions("x")})
    assert error.param == "package_dimensions[height]"


def test_a_decimal_keeps_its_exact_text():
    params = {"currency": "eur", "product": "prod_1", "unit_amount_decimal": "12.3456"}
    assert validate("POST /v1/prices", params)["unit_amount_decimal"] == "12.3456"


def test_a_tier_limit_is_inf_or_an_integer():
    tiers = {"0": {"up_to": "10", "unit_amount": "5"}, "1": {"up_to": "inf", "unit_amount": "4"}}
    params = {"currency": "eur", "product": "prod_1", "tiers": tiers, "billing_scheme": "tiered"}
    assert [tier["up_to"] for tier in validate("POST /v1/prices", params)["tiers"]] == [10, "inf"]
    tiers["0"]["up_to"] = "lots"
    assert refused("POST /v1/prices", params).param == "tiers[0][up_to]"


def test_a_hash_of_objects_is_accepted_as_given():
    options = {"usd": {"unit_amount": "3100"}}
    params = {"currency": "eur", "product": "prod_1", "currency_options": options}
    assert validate("POST /v1/prices", params)["currency_options"] == options


def test_a_file_parameter_must_be_a_file_part():
    error = refused("POST /v1/files", {"purpose": "business_icon", "file": "icon.png"})
    assert error.param == "file"
    assert "multipart/form-data file part" in error.message


def refused(endpoint: str, params: dict) -> ParamError:
    with pytest.raises(ParamError) as caught:
        validate(endpoint, params)
    return caught.value


def _dimensions(height: str) -> dict:
    return {"height": height, "length": "2", "weight": "3", "width": "4"}
