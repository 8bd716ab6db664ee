"""`drift --stack S` against the Stripe stand-in (a real HTTP server the stripe SDK talks to)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.net import free_port
from local.stripe.core.shapes import expand_paths
from stackspec.declared import substitute
from stackspec.portal_spec import portal_spec
from stackspec.stackfiles import read_settings
from tests.review.review_support import (
    DEV_PRODUCT_IDS,
    REPO,
    brand_as_declared,
    create_webhook_endpoint,
    run,
    settings_in_table,
)

pytestmark = pytest.mark.integration

PRODUCT_IDS = json.dumps(DEV_PRODUCT_IDS)
PRODUCTS = "features.subscription_update.products"


def declared_params(stack: str) -> dict[str, Any]:
    """The parameters pulumi-stripe plus PortalFields would create the stack's portal with."""
    spec = portal_spec(read_settings(REPO / f"Pulumi.{stack}.yaml"))
    return substitute(spec, DEV_PRODUCT_IDS)


def deploy(standin, stack: str = "dev") -> str:
    """Create the stack's configuration as `pulumi up` leaves it, and brand the account as the
    stack's manual step does; returns the configuration's id."""
    client = standin.client()
    settings = read_settings(REPO / f"Pulumi.{stack}.yaml")
    brand_as_declared(standin, settings)
    create_webhook_endpoint(standin, settings)
    return client.v1.billing_portal.configurations.create(params=declared_params(stack)).id


def edit(standin, configuration_id: str, params: dict[str, Any]) -> None:
    """Change a configuration the way a Dashboard edit does: through Stripe's API."""
    standin.client().v1.billing_portal.configurations.update(configuration_id, params=params)


def drift(env: dict[str, str], *options: str) -> Any:
    """`drift --stack dev` with the ids of the dev stack's declared products."""
    argv = ["-C", str(REPO), "drift", "--stack", "dev", "--product-ids", PRODUCT_IDS, *options]
    return run(*argv, environ=env)


def findings(result) -> list[str]:
    return [item["setting"] for item in json.loads(result.out)["findings"]]


# Edits a person could make in the Dashboard: (setting it changes, the update parameters).
EDITS: list[tuple[str, dict[str, Any]]] = [
    (
        "features.subscription_cancel.mode",
        {"features": {"subscription_cancel": {"mode": "at_period_end"}}},
    ),
    ("business_profile.headline", {"business_profile": {"headline": "Edited in the Dashboard"}}),
    (
        "features.customer_update.allowed_updates",
        {"features": {"customer_update": {"allowed_updates": ["email"]}}},
    ),
    ("name", {"name": "Renamed"}),
    ("default_return_url", {"default_return_url": "https://elsewhere.example.com/billing"}),
    (
        "features.subscription_update.products[prod_DevTeam0001].prices",
        {
            "features": {
                "subscription_update": {
                    "products": [
                        {"product": "prod_DevTeam0001", "prices": ["price_DevTeamMonthly01"]},
                        {"product": "prod_DevBusiness01", "prices": ["price_DevBusinessMon01"]},
                    ]
                }
            }
        },
    ),
    ("active", {"active": False}),
]


def test_a_configuration_as_declared_has_no_drift_and_exits_0(standin, env):
    configuration_id = deploy(standin)
    result = drift(env, "--configuration-id", configuration_id)
    assert result.code == 0, result.err
    assert "— none, the live configuration is as declared" in result.out
    assert configuration_id in result.out


def test_drift_reads_the_configuration_with_the_products_stripe_leaves_out_unless_expanded(
    standin, env
):
    # Without the expand, Stripe's configuration has no products: drift every day.
    configuration_id = deploy(standin)
    assert drift(env, "--configuration-id", configuration_id).code == 0  # retrieve
    assert drift(env).code == 0  # found among the listed ones
    reads = standin.requests(path_prefix="/v1/billing_portal/configurations", method="GET")
    assert [expand_paths(read["params"]) for read in reads] == [[PRODUCTS], [f"data.{PRODUCTS}"]]


@pytest.mark.parametrize("count", [1, 3, len(EDITS)])
def test_a_configuration_edited_in_n_fields_is_reported_with_exactly_those_n(standin, env, count):
    configuration_id = deploy(standin)
    for _, params in EDITS[:count]:
        edit(standin, configuration_id, params)
    result = drift(env, "--configuration-id", configuration_id, "--format", "json")
    assert result.code == 1, result.err
    assert sorted(findings(result)) == sorted(setting for setting, _ in EDITS[:count])


def test_the_markdown_report_tables_the_drifted_settings_declared_and_live(standin, env):
    configuration_id = deploy(standin)
    for _, params in EDITS[:3]:
        edit(standin, configuration_id, params)
    result = drift(env, "--configuration-id", configuration_id)
    assert result.code == 1
    drifted = result.out.split("#### Branding")[0]  # the configuration's table
    assert sorted(settings_in_table(drifted)) == sorted(setting for setting, _ in EDITS[:3])
    assert "| `features.subscription_cancel.mode` | `immediately` | `at_period_end` |" in drifted
    assert "changed outside Pulumi" in drifted


def test_without_an_id_the_stacks_configuration_is_found_by_its_metadata(standin, env):
    deploy(standin, "prod")  # another stack's configuration in the same account
    configuration_id = deploy(standin, "dev")
    result = drift(env, "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["configuration_id"] == configuration_id


def test_a_deactivated_configuration_is_found_and_reported_inactive(standin, env):
    configuration_id = deploy(standin)
    edit(standin, configuration_id, {"active": False})
    result = drift(env, "--format", "json")
    assert result.code == 1, result.err
    assert findings(result) == ["active"]


def test_a_stack_referencing_products_by_id_needs_no_product_ids(standin, env):
    deploy(standin, "prod")
    result = run("-C", str(REPO), "drift", "--stack", "prod", environ=env)
    assert result.code == 0, result.err


def test_the_key_may_come_from_stripe_secret_key(standin):
    configuration_id = deploy(standin)
    env = {"STRIPE_SECRET_KEY": standin.test_key, "STRIPE_API_BASE": standin.url}
    assert drift(env, "--configuration-id", configuration_id).code == 0


# ---------------------------------------------------------------------------- errors: exit 2


def one_line_error(result) -> str:
    assert result.code == 2, result.out
    assert result.out == ""
    assert result.err.startswith("error: ") and result.err.count("\n") == 1, result.err
    return result.err


def test_a_bad_key_exits_2_with_one_line_that_does_not_show_the_key(standin, env):
    result = drift({**env, "STRIPE_API_KEY": "sk_test_bad"})
    assert "Stripe refused the API key" in one_line_error(result)
    assert "sk_test_bad" not in result.err


def test_an_unreachable_stripe_exits_2_with_one_line(env):
    unreachable = f"http://127.0.0.1:{free_port()}"
    result = drift({**env, "STRIPE_API_BASE": unreachable})
    assert f"Stripe could not be reached at {unreachable}: " in one_line_error(result)


def test_an_unknown_configuration_id_exits_2_with_one_line(standin, env):
    result = drift(env, "--configuration-id", "bpc_DoesNotExist00")
    assert "Stripe has no portal configuration bpc_DoesNotExist00" in one_line_error(result)


def test_no_configuration_of_the_stack_exits_2_with_one_line(standin, env):
    deploy(standin, "prod")
    result = drift(env)
    assert "no portal configuration is tagged" in one_line_error(result)


def test_no_key_exits_2_with_one_line(standin):
    result = drift({"STRIPE_API_BASE": standin.url})
    assert "no Stripe key: set STRIPE_API_KEY or STRIPE_SECRET_KEY" in one_line_error(result)


def test_product_ids_lacking_a_declared_reference_exit_2_with_one_line(standin, env):
    partial = json.dumps({"declared:team": "prod_DevTeam0001"})
    argv = ["-C", str(REPO), "drift", "--stack", "dev", "--product-ids", partial]
    result = run(*argv, environ=env)
    assert "--product-ids has no id for declared:team/monthly" in one_line_error(result)


def test_product_ids_may_be_read_from_a_file(standin, env, tmp_path):
    configuration_id = deploy(standin)
    ids = tmp_path / "ids.json"
    ids.write_text(PRODUCT_IDS)
    argv = ["-C", str(REPO), "drift", "--stack", "dev", "--product-ids", f"@{ids}"]
    result = run(*argv, "--configuration-id", configuration_id, environ=env)
    assert result.code == 0, result.err
