"""Setting rows and how they compare: the pure steps under plan, diff and drift."""

from __future__ import annotations

from review.plan import Change, compare, identical
from review.rows import ABSENT, flatten, is_unmanaged, same, schema_path

PRODUCTS = "features.subscription_update.products"
CONDITIONS = "features.subscription_update.schedule_at_period_end.conditions"


def update(**fields):
    return {"features": {"subscription_update": fields}}


def test_nested_parameters_become_dotted_settings():
    rows = flatten({"business_profile": {"headline": "Hi"}, "login_page": {"enabled": True}})
    assert rows == {"business_profile.headline": "Hi", "login_page.enabled": True}


def test_plan_switching_products_are_listed_and_keyed_by_product():
    rows = flatten(
        update(
            products=[
                {"product": "prod_a", "prices": ["price_1"]},
                {"product": "prod_b", "prices": ["price_2"], "adjustable_quantity": {"minimum": 2}},
            ]
        )
    )
    assert rows == {
        PRODUCTS: ["prod_a", "prod_b"],
        f"{PRODUCTS}[prod_a].prices": ["price_1"],
        f"{PRODUCTS}[prod_b].prices": ["price_2"],
        f"{PRODUCTS}[prod_b].adjustable_quantity.minimum": 2,
    }


def test_a_list_of_one_field_objects_is_one_row_of_values_even_when_empty():
    conditions = [{"type": "decreasing_item_amount"}, {"type": "shortening_interval"}]
    assert flatten(update(schedule_at_period_end={"conditions": conditions})) == {
        f"{CONDITIONS}[].type": ["decreasing_item_amount", "shortening_interval"]
    }
    assert flatten(update(schedule_at_period_end={"conditions": []})) == {
        f"{CONDITIONS}[].type": []
    }


def test_a_list_of_several_field_objects_stays_one_row():
    options = [{"interval": "month", "interval_count": 1}]
    rows = flatten(
        {"features": {"subscription_pause": {"duration": {"interval_options": options}}}}
    )
    assert rows == {"features.subscription_pause.duration.interval_options": options}


def test_list_order_does_not_make_settings_differ():
    assert same(["email", "address"], ["address", "email"])
    assert not same(["email", "address"], ["email"])


def test_an_unset_list_is_the_same_whether_null_or_empty():
    assert same(None, [])
    assert not same(None, ["price"])


def test_true_is_not_the_same_as_one():
    assert not same(True, 1)


def test_a_missing_setting_is_only_the_same_as_another_missing_one():
    assert same(ABSENT, ABSENT)
    assert not same(ABSENT, None)


def test_a_keyed_row_is_named_in_the_schema_with_empty_brackets():
    assert schema_path(f"{PRODUCTS}[prod_a].adjustable_quantity.maximum") == (
        f"{PRODUCTS}[].adjustable_quantity.maximum"
    )


def test_fields_pulumi_stripe_cannot_set_are_recognised_inside_keyed_products():
    assert is_unmanaged(f"{PRODUCTS}[prod_a].adjustable_quantity.maximum")
    assert is_unmanaged("name")
    assert not is_unmanaged(f"{PRODUCTS}[prod_a].prices")
    assert not is_unmanaged("features.subscription_cancel.mode")


def test_compare_reports_changed_added_and_removed_settings():
    old = {"a": 1, "b": 2, "c": 3}
    new = {"a": 1, "b": 20, "d": 4}
    assert compare(old, new) == [Change("b", 2, 20), Change("c", 3, ABSENT), Change("d", ABSENT, 4)]


def test_a_removed_setting_is_listed_where_it_was():
    old = {"a": 1, "gone": 2, "z": 3}
    new = {"a": 10, "z": 30}
    assert [change.setting for change in compare(old, new)] == ["a", "gone", "z"]


def test_identical_settings_are_those_with_the_same_value_on_both_sides():
    assert identical({"a": 1, "b": [1, 2], "c": 3}, {"a": 1, "b": [2, 1], "c": 4}) == {
        "a": 1,
        "b": [1, 2],
    }
