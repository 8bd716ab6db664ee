"""`plan` and `diff` show each plan's features in the rows drift uses."""

from __future__ import annotations

from review.features_drift import expected_grants, feature_rows
from review.plan import compare, plan_of
from stackspec.stackfiles import read_settings
from tests.review.review_support import REPO, run

DEV = read_settings(REPO / "Pulumi.dev.yaml")
PROD = read_settings(REPO / "Pulumi.prod.yaml")


def test_the_plan_has_a_row_per_feature_and_per_granting_product():
    rows = plan_of(DEV).rows
    assert rows["entitlements.features[export_csv].name"] == "Export to CSV"
    assert rows["entitlements.products[declared:business].features"] == [
        "export_csv",
        "seats",
        "sso",
    ]
    assert rows["entitlements.products[declared:team].features"] == ["seats"]
    assert "catalog.business.features" not in rows  # shown once, in the entitlements rows


def test_taking_a_feature_off_a_plan_is_one_changed_row():
    business = next(p for p in DEV.products if p.key == "business")
    fewer = ("seats", "sso")
    changed = DEV.features.__class__(
        DEV.features.features,
        tuple(
            g.__class__(g.product, fewer) if g.product == "declared:business" else g
            for g in DEV.features.grants
        ),
    )
    assert business.features
    old, new = (
        feature_rows(DEV),
        feature_rows(DEV.__class__(**{**DEV.__dict__, "features": changed})),
    )
    (change,) = compare(old, new)
    assert change.setting == "entitlements.products[declared:business].features"
    assert (change.old, change.new) == (["export_csv", "seats", "sso"], ["seats", "sso"])


def test_drift_checks_every_declared_product_and_every_product_by_id():
    assert expected_grants(DEV) == {
        "declared:team": ["seats"],
        "declared:business": ["export_csv", "seats", "sso"],
    }
    assert set(expected_grants(PROD)) == {"prod_AcmeTeamLive01", "prod_AcmeBusinessLive01"}


def test_the_cli_plan_and_diff_show_the_features():
    plan = run("-C", str(REPO), "plan", "--stack", "dev")
    assert plan.code == 0 and "entitlements.products[declared:business].features" in plan.out
    diff = run("-C", str(REPO), "diff", "dev", "prod")
    assert "entitlements.products[prod_AcmeBusinessLive01].features" in diff.out
