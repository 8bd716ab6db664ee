"""Stripe's form encoding as the stand-in decodes it, checked against the SDK's own encoder."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stripe._encode import _api_encode  # the SDK's encoder: what really goes on the wire

from local.stripe.core.forms import FormError, bracket_name, decode_form


def sdk_body(params: dict) -> str:
    return urlencode(list(_api_encode(params)))


def as_decoded(value):
    """What decoding yields for an SDK value: strings at the leaves, lists as indexed dicts."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return {str(key): as_decoded(item) for key, item in value.items()}
    if isinstance(value, list):
        # The SDK lowercases booleans except direct list items, which go out as "True"/"False";
        # a list inside a list is encoded as an indexed hash.
        return {str(index): _list_item(item) for index, item in enumerate(value)}
    return str(value)


def _list_item(item):
    if isinstance(item, bool):
        return str(item)
    if isinstance(item, list):
        return as_decoded(dict(enumerate(item)))
    return as_decoded(item)


def test_nested_hashes_lists_and_metadata_decode_into_nested_dicts():
    body = "a[b][0][c]=v&a[b][1][c]=w&metadata[k]=v&flag=true"
    assert decode_form(body) == {
        "a": {"b": {"0": {"c": "v"}, "1": {"c": "w"}}},
        "metadata": {"k": "v"},
        "flag": "true",
    }


def test_empty_value_stays_an_empty_string():
    assert decode_form("default_return_url=") == {"default_return_url": ""}


def test_bracket_append_syntax_builds_a_list():
    assert decode_form("expand[]=a&expand[]=b") == {"expand": ["a", "b"]}


@pytest.mark.parametrize("body", ["a=1&a[b]=2", "a[b]=2&a=1", "a[][b]=1", "a[x]=1&a[]=2"])
def test_conflicting_shapes_are_a_form_error_naming_the_key(body):
    with pytest.raises(FormError) as caught:
        decode_form(body)
    assert caught.value.param.startswith("a")


def test_bracket_name_joins_parts_like_stripe():
    assert bracket_name(("features", "subscription_update", "products", 0, "product")) == (
        "features[subscription_update][products][0][product]"
    )


_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
_leaves = st.one_of(st.text(max_size=12), st.integers(-(10**6), 10**6), st.booleans())
_values = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.dictionaries(_names, inner, min_size=1, max_size=3),
        st.lists(inner, min_size=1, max_size=3),
    ),
    max_leaves=10,
)


@given(st.dictionaries(_names, _values, min_size=1, max_size=4))
def test_decoding_inverts_the_sdk_encoder(params):
    assert decode_form(sdk_body(params)) == as_decoded(params)
