"""The drift check's decisions, without Stripe: which fields count, finding the configuration,
and resolving `declared:` references."""

from __future__ import annotations

import copy

import pytest

from review.drift import (
    NotFound,
    compare_live,
    expected_rows,
    find_configuration,
    server_set_fields,
)
from review.rows import ABSENT
from stackspec.declared import (
    MANAGED_BY,
    declared_metadata,
    declared_refs,
    ids_from_metadata,
    missing_ids,
    parse_product_ids,
    referenced_objects,
    substitute,
)
from stackspec.portal_spec import portal_spec
from stackspec.stackfiles import read_settings
from tests.review.review_support import DEV_PRODUCT_IDS, REPO

PRODUCTS = "features.subscription_update.products"


def dev_spec() -> dict:
    return substitute(portal_spec(read_settings(REPO / "Pulumi.dev.yaml")), DEV_PRODUCT_IDS)


def live_from(spec: dict, **overrides) -> dict:
    """A live configuration object as Stripe returns it after creating it from `spec`."""
    features = copy.deepcopy(spec["features"])
    for product in features["subscription_update"].get("products", []):
        product.setdefault("adjustable_quantity", {"enabled": False, "maximum": None, "minimum": 1})
    features["subscription_update"].setdefault("trial_update_behavior", "end_trial")
    features.setdefault("subscription_pause", {"enabled": False})
    configuration = {
        "id": "bpc_1Live",
        "object": "billing_portal.configuration",
        "active": True,
        "application": None,
        "business_profile": dict(spec["business_profile"]),
        "created": 1700000000,
        "default_return_url": spec["default_return_url"],
        "features": features,
        "is_default": False,
        "livemode": False,
        "login_page": {"enabled": spec["login_page"]["enabled"], "url": None},
        "metadata": dict(spec["metadata"]),
        "name": spec.get("name"),
        "updated": 1700000000,
    }
    configuration.update(overrides)
    return configuration


def check(live: dict, spec: dict | None = None, active: bool = True):
    spec = spec or dev_spec()
    return compare_live("dev", expected_rows(spec, active=active), live)


def test_a_configuration_created_from_the_spec_has_no_drift():
    report = check(live_from(dev_spec()))
    assert report.findings == ()
    assert not report.drifted


def test_fields_only_stripe_sets_are_never_compared():
    report = check(live_from(dev_spec(), id="bpc_other", updated=1, is_default=True))
    assert report.findings == ()
    assert {"id", "updated", "is_default", "login_page.url"} <= server_set_fields()
    assert "updated" not in dict(report.undeclared)


def test_a_deactivated_configuration_is_drift_of_active():
    report = check(live_from(dev_spec(), active=False))
    assert [(f.setting, f.declared, f.live) for f in report.findings] == [("active", True, False)]


def test_fields_the_stack_does_not_declare_are_listed_not_compared():
    live = live_from(dev_spec())
    reason = live["features"]["subscription_cancel"]["cancellation_reason"]
    reason["feedback_options"] = ["Too slow"]
    report = check(live)
    assert report.findings == ()
    setting = "features.subscription_cancel.cancellation_reason.feedback_options"
    assert (setting, ["Too slow"]) in report.undeclared


def test_an_undeclared_field_pulumi_stripe_cannot_set_is_compared_with_stripes_default():
    # `pulumi up` sets it back to the default (PortalFields), so drift compares it the same way
    live = live_from(dev_spec())
    live["features"]["subscription_pause"] = {"enabled": True}
    report = check(live)
    assert [(f.setting, f.declared, f.live) for f in report.findings] == [
        ("features.subscription_pause.enabled", False, True)
    ]
    assert "features.subscription_pause.enabled" not in dict(report.undeclared)


def test_sub_settings_of_a_feature_declared_disabled_are_not_compared():
    spec = dev_spec()
    spec["features"]["customer_update"] = {"enabled": False}
    live = live_from(spec)
    live["features"]["customer_update"] = {"enabled": False, "allowed_updates": ["name"]}
    report = check(live, spec)
    assert report.findings == ()
    assert "features.customer_update.allowed_updates" not in dict(report.undeclared)


def test_enabling_a_feature_declared_disabled_is_drift():
    spec = dev_spec()
    spec["features"]["invoice_history"] = {"enabled": False}
    live = live_from(spec)
    live["features"]["invoice_history"] = {"enabled": True}
    assert [f.setting for f in check(live, spec).findings] == ["features.invoice_history.enabled"]


def test_a_product_missing_or_extra_is_reported_once_on_the_product_list():
    live = live_from(dev_spec())
    products = live["features"]["subscription_update"]["products"]
    products[1] = {"product": "prod_Other", "prices": ["price_Other"]}
    report = check(live)
    assert [f.setting for f in report.findings] == [PRODUCTS]
    assert report.findings[0].live == ["prod_DevTeam0001", "prod_Other"]


def test_a_declared_setting_missing_from_the_live_object_is_drift():
    live = live_from(dev_spec())
    del live["features"]["subscription_cancel"]["mode"]
    report = check(live)
    assert [(f.setting, f.live) for f in report.findings] == [
        ("features.subscription_cancel.mode", ABSENT)
    ]


def test_the_metadata_the_stack_sets_is_compared_and_other_keys_are_listed():
    live = live_from(dev_spec())
    live["metadata"] = {**live["metadata"], "stack": "prod", "note": "set by hand"}
    report = check(live)
    assert [f.setting for f in report.findings] == ["metadata.stack"]
    assert ("metadata.note", "set by hand") in report.undeclared


def test_the_report_carries_both_spec_hashes():
    spec = dev_spec()
    live = live_from(spec)
    live["metadata"]["spec-hash"] = "0000000000000000"
    report = check(live, spec)
    assert report.declared_hash == spec["metadata"]["spec-hash"]
    assert report.live_hash == "0000000000000000"


# ---------------------------------------------------------------------------- finding it


def tagged(configuration_id: str, stack: str = "dev", active: bool = True) -> dict:
    metadata = {"managed-by": MANAGED_BY, "stack": stack}
    return {"id": configuration_id, "active": active, "metadata": metadata}


STACK_TAGS = {"managed-by": MANAGED_BY, "stack": "dev", "spec-hash": "x"}


def test_the_configuration_is_found_by_its_stack_metadata():
    found = find_configuration([tagged("bpc_prod", "prod"), tagged("bpc_dev")], STACK_TAGS)
    assert found["id"] == "bpc_dev"


def test_an_active_configuration_is_preferred_to_inactive_ones():
    found = find_configuration([tagged("bpc_old", active=False), tagged("bpc_new")], STACK_TAGS)
    assert found["id"] == "bpc_new"


def test_the_only_configuration_of_the_stack_is_found_even_when_inactive():
    assert find_configuration([tagged("bpc_off", active=False)], STACK_TAGS)["id"] == "bpc_off"


def test_two_active_configurations_of_one_stack_are_ambiguous():
    with pytest.raises(NotFound, match=r"2 active portal configurations .* \(bpc_a, bpc_b\)"):
        find_configuration([tagged("bpc_a"), tagged("bpc_b")], STACK_TAGS)


def test_no_configuration_of_the_stack_says_how_to_name_one():
    with pytest.raises(NotFound, match="pass --configuration-id"):
        find_configuration([tagged("bpc_prod", "prod"), {"id": "bpc_x"}], STACK_TAGS)


# ---------------------------------------------------------------------------- declared: refs


def test_every_declared_reference_of_the_dev_spec_is_found():
    spec = portal_spec(read_settings(REPO / "Pulumi.dev.yaml"))
    assert sorted(declared_refs(spec)) == sorted(DEV_PRODUCT_IDS)


def test_products_and_prices_are_recognised_by_the_metadata_pulumi_gives_them():
    objects = [
        {"id": "prod_1", "metadata": declared_metadata("dev", "declared:team")},
        {"id": "price_1", "metadata": declared_metadata("dev", "declared:team/monthly")},
        {"id": "prod_2", "metadata": declared_metadata("prod", "declared:team")},
        {"id": "prod_3", "metadata": {}},
    ]
    assert ids_from_metadata("dev", objects) == {
        "declared:team": "prod_1",
        "declared:team/monthly": "price_1",
    }


def test_the_pulumi_program_tags_its_products_so_the_drift_check_recognises_them(tmp_path):
    from tests.infra.infra_harness import load_stack, run_program  # the program under mocks

    run = run_program("dev", load_stack("dev"), tmp_path)
    created = [
        {"id": registration.name, "metadata": registration.inputs["metadata"]}
        for registration in run.registrations
        if registration.type in ("stripe:index/product:Product", "stripe:index/price:Price")
    ]
    assert set(ids_from_metadata("dev", created)) == set(DEV_PRODUCT_IDS)


def test_the_live_configuration_names_the_products_and_prices_to_look_up():
    live = live_from(dev_spec())
    products, prices = referenced_objects(live)
    assert products == ["prod_DevTeam0001", "prod_DevBusiness01"]
    assert prices == [
        "price_DevTeamMonthly01",
        "price_DevTeamYearly001",
        "price_DevBusinessMon01",
    ]


def test_product_ids_are_read_from_the_stack_output_json():
    assert parse_product_ids('{"declared:team": "prod_1"}') == {"declared:team": "prod_1"}
    with pytest.raises(ValueError, match="not JSON"):
        parse_product_ids("prod_1")
    with pytest.raises(ValueError, match="JSON object"):
        parse_product_ids('["prod_1"]')


def test_references_without_an_id_are_named():
    assert missing_ids(["declared:a", "declared:b"], {"declared:a": "prod_1"}) == ["declared:b"]
