"""Features as code in the stack file: `features`, `products.<name>.features`, `productFeatures`.

Every mistake fails at preview with one line naming the full key and the fix."""

from __future__ import annotations

import pytest

from stackspec.features_settings import Feature, Grant, lookup_key_problem
from stackspec.settings import parse_settings
from tests.stackspec.stack_configs import minimal_config
from tests.stackspec.test_validation import problems_of, the_problem

PRICE = {"monthly": {"currency": "eur", "unitAmount": 900, "interval": "month"}}
FEATURES = {"export_csv": "Export to CSV", "seats": "Extra seats"}


def stack(features=FEATURES, grants=("export_csv",), **values):
    """A dev config declaring `features` and one product `pro` granting `grants`."""
    product = {"name": "Pro", "prices": PRICE, "features": list(grants)}
    return minimal_config(features=features, products={"pro": product}, **values)


def test_features_and_what_each_product_grants_are_read():
    settings = parse_settings(
        "dev", stack(productFeatures={"prod_Live01": ["seats", "export_csv"]})
    )
    assert settings.features.features == (
        Feature("export_csv", "Export to CSV"),
        Feature("seats", "Extra seats"),
    )
    assert settings.features.grants == (
        Grant("declared:pro", ("export_csv",)),
        Grant("prod_Live01", ("seats", "export_csv")),
    )
    assert settings.features.attachments == (
        ("declared:pro", "export_csv"),
        ("prod_Live01", "seats"),
        ("prod_Live01", "export_csv"),
    )


def test_a_stack_without_features_has_none():
    settings = parse_settings("dev", minimal_config())
    assert settings.features.features == () and settings.features.grants == ()


def test_a_product_granting_an_undeclared_feature_fails_naming_the_list_item():
    problem = the_problem(stack(grants=("export_csv", "exprot_csv")))
    assert problem.key == "billing-portal:products.pro.features[1]"
    assert "'exprot_csv' is not a feature declared under billing-portal:features" in str(problem)
    assert "export_csv, seats" in problem.fix


def test_a_product_by_id_granting_an_undeclared_feature_fails_naming_the_list_item():
    problem = the_problem(stack(productFeatures={"prod_Live01": ["sso"]}))
    assert problem.key == "billing-portal:productFeatures.prod_Live01[0]"


def test_a_feature_listed_twice_on_a_product_fails():
    problem = the_problem(stack(grants=("seats", "seats")))
    assert problem.key == "billing-portal:products.pro.features"
    assert "seats more than once" in problem.problem


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("x" * 81, "is 81 characters; Stripe accepts at most 80"),
        ("export csv", "may hold only letters, digits, _ and -"),
        ("_hidden", "may hold only letters, digits, _ and -"),
        ("a.b", "may hold only letters, digits, _ and -"),
    ],
)
def test_a_lookup_key_stripe_or_a_resource_name_would_refuse_fails(key, why):
    problem = the_problem(stack(features={key: "A feature"}, grants=()))
    assert problem.key == f"billing-portal:features.{key}"
    assert why in problem.problem and "rename it" in problem.fix


def test_the_longest_lookup_key_stripe_accepts_is_accepted():
    assert lookup_key_problem("k" * 80) is None
    parse_settings("dev", stack(features={"k" * 80: "Long"}, grants=()))


@pytest.mark.parametrize("name", ["", "   ", None, 3, ["Export"]])
def test_a_feature_without_a_name_fails(name):
    problem = the_problem(stack(features={"export_csv": name}, grants=()))
    assert problem.key == "billing-portal:features.export_csv"
    if name is None:  # `export_csv:` with nothing after it: the reader's own message
        assert problem.problem == "has no value"
    else:
        assert "needs a name" in problem.problem and "export_csv: Export to CSV" in problem.fix


def test_a_name_longer_than_stripe_accepts_fails():
    problem = the_problem(stack(features={"export_csv": "n" * 81}, grants=()))
    assert "Stripe accepts at most 80" in problem.problem


def test_product_features_keyed_by_a_declared_product_points_to_its_own_block():
    problem = the_problem(stack(productFeatures={"pro": ["seats"]}))
    assert problem.key == "billing-portal:productFeatures.pro"
    assert "billing-portal:products.pro.features" in problem.fix


def test_product_features_keyed_by_something_else_than_an_id_fails():
    problem = the_problem(stack(productFeatures={"price_123": ["seats"]}))
    assert problem.key == "billing-portal:productFeatures.price_123"
    assert "is not a Stripe product id" in problem.problem


def test_an_empty_grant_list_by_id_fails():
    problem = the_problem(stack(productFeatures={"prod_Live01": []}))
    assert problem.key == "billing-portal:productFeatures.prod_Live01"


def test_features_that_are_not_a_mapping_fail():
    problem = the_problem(stack(features=["export_csv"], grants=()))
    assert problem.key == "billing-portal:features"


def test_a_products_features_that_are_not_a_list_fail():
    config = stack()
    config["billing-portal:products"]["pro"]["features"] = {"export_csv": True}
    problem = the_problem(config)
    assert problem.key == "billing-portal:products.pro.features"


def test_every_mistake_is_reported_at_once():
    config = stack(
        features={"bad key": "x", "ok": ""}, productFeatures={"nope": ["ok"]}, grants=("gone",)
    )
    keys = {problem.key for problem in problems_of(config)}
    assert keys == {
        "billing-portal:features.bad key",
        "billing-portal:features.ok",
        "billing-portal:productFeatures.nope",
        "billing-portal:products.pro.features[0]",
    }
