"""Check decoded request parameters against schema/billing-portal-api.json, as Stripe would.

Pure (``stackspec.schema`` reads the schema once). ``validate`` returns the parameters
normalized (integers and booleans converted, indexed dicts turned into lists) or raises
``ParamError`` with Stripe's error code and parameter name for the first problem found.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from local.stripe.core.forms import Params, bracket_name
from local.stripe.core.multipart import UploadedFile
from stackspec.schema import document

_INTEGER = re.compile(r"^-?\d+$")
_BOOLEANS = {"true": True, "false": False}
_LIST_TYPE = re.compile(r"^list<(?P<item>[a-z()]+)>$")
_NUMBER = re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_SCALAR_KINDS = {"str", "int", "float", "decimal", "bool", "enum", "enum(open)", "object", "file"}
_MAP_KINDS = {"map", "UntypedStripeObject"}  # a hash of strings (metadata)
_HASH_KINDS = {"map<object>", "UntypedStripeObject<object>"}  # a hash of objects
METADATA_MAX_KEYS = 50
METADATA_KEY_MAX = 40
METADATA_VALUE_MAX = 500


class ParamError(ValueError):
    """A parameter Stripe would reject: HTTP 400, ``invalid_request_error``."""

    def __init__(self, message: str, *, param: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


@dataclass(frozen=True)
class Field:
    """One schema row: where the parameter sits and what it accepts."""

    path: str
    kind: str  # str | int | float | decimal | bool | enum | enum|int | object | map | hash | file
    #            | list
    item: str | None  # the item kind of a list (str | int | enum | object)
    empty_ok: bool  # "" is accepted, meaning "unset"
    required: bool
    enum: tuple[str, ...]

    @property
    def key(self) -> str:
        """The field's own name within its parent."""
        return self.path.rsplit(".", 1)[-1]

    @property
    def parent(self) -> str:
        """Schema path of the enclosing object ("" at the top level, "a[]" inside lists)."""
        return self.path.rsplit(".", 1)[0] if "." in self.path else ""


def parse_type(type_text: str) -> tuple[str, str | None, bool]:
    """Split a schema type such as ``''|list<enum(open)>`` into (kind, item kind, empty ok)."""
    alternatives = type_text.split("|")
    empty_ok = "''" in alternatives
    kinds = [a for a in alternatives if a != "''"]
    if kinds and all(kind in _MAP_KINDS for kind in kinds):
        return "map", None, empty_ok
    if kinds and all(kind in _HASH_KINDS for kind in kinds):
        return "hash", None, empty_ok
    # Open enums are checked like closed ones everywhere in the stand-in (Stripe lists the values).
    if kinds in (["enum", "int"], ["enum(open)", "int"]):
        return "enum|int", None, empty_ok
    if len(kinds) != 1:
        raise ValueError(f"unsupported schema type {type_text!r}")
    (kind,) = kinds
    listed = _LIST_TYPE.match(kind)
    if listed:
        item = listed["item"].removesuffix("(open)")
        if item not in {"str", "int", "enum", "object"}:
            raise ValueError(f"unsupported list item type in {type_text!r}")
        return "list", item, empty_ok
    if kind not in _SCALAR_KINDS:
        raise ValueError(f"unsupported schema type {type_text!r}")
    return kind.removesuffix("(open)"), None, empty_ok


class EndpointSchema:
    """The accepted parameters of one endpoint, indexed by their parent object."""

    def __init__(self, endpoint: str, rows: Sequence[dict[str, Any]]) -> None:
        self.endpoint = endpoint
        self.fields: dict[str, Field] = {}
        self.children: dict[str, dict[str, Field]] = {"": {}}
        for row in rows:
            kind, item, empty_ok = parse_type(row["t"])
            field = Field(
                path=row["p"],
                kind=kind,
                item=item,
                empty_ok=empty_ok,
                required=bool(row.get("req")),
                enum=tuple(row.get("enum") or ()),
            )
            self.fields[field.path] = field
            if kind == "object":
                self.children.setdefault(field.path, {})
            if kind == "list" and item == "object":
                self.children.setdefault(field.path + "[]", {})
        for field in self.fields.values():
            if field.parent not in self.children:
                raise ValueError(f"{endpoint}: {field.path} has no object parent in the schema")
            self.children[field.parent][field.key] = field

    def validate(self, params: Params, *, allow_unset: bool = False) -> Params:
        """Return normalized ``params`` or raise ``ParamError`` for the first problem.

        ``allow_unset`` accepts "" for every optional parameter; the customer-update endpoint
        borrows the create rows, and update (unlike create) lets most fields be unset.
        """
        return _Walk(self, allow_unset).object(params, "", ())


class _Walk:
    def __init__(self, schema: EndpointSchema, allow_unset: bool) -> None:
        self.schema = schema
        self.allow_unset = allow_unset

    def object(self, value: Params, schema_path: str, name: tuple[str | int, ...]) -> Params:
        known = self.schema.children[schema_path]
        for key in value:
            if key not in known:
                param = bracket_name((*name, key))
                raise ParamError(
                    f"Received unknown parameter: {param}", param=param, code="parameter_unknown"
                )
        normalized = {
            key: self.value(known[key], item, (*name, key)) for key, item in value.items()
        }
        for key, field in known.items():
            if field.required and key not in value:
                param = bracket_name((*name, key))
                raise ParamError(
                    f"Missing required param: {param}.", param=param, code="parameter_missing"
                )
        return normalized

    def value(self, field: Field, value: Any, name: tuple[str | int, ...]) -> Any:
        param = bracket_name(name)
        if value == "":
            if field.empty_ok or (self.allow_unset and not field.required):
                return ""
            raise ParamError(
                f"You passed an empty string for '{param}'. We assume empty values are an attempt "
                f"to unset a parameter; however '{param}' cannot be unset. You should remove "
                f"'{param}' from your request or supply a non-empty value.",
                param=param,
                code="parameter_invalid_empty",
            )
        if field.kind == "object":
            return self.object(_expect_hash(value, param), field.path, name)
        if field.kind == "map":
            return _metadata(_expect_hash(value, param), param)
        if field.kind == "hash":
            return _expect_hash(value, param)  # its values are not described by the schema
        if field.kind == "file":
            if not isinstance(value, UploadedFile):
                raise ParamError(
                    f"Invalid {param}: send the file as a multipart/form-data file part",
                    param=param,
                )
            return value
        if field.kind == "list":
            items = _expect_list(value, param)
            return [self.item(field, item, (*name, index)) for index, item in enumerate(items)]
        return _scalar(field.kind, field.enum, value, param)

    def item(self, field: Field, value: Any, name: tuple[str | int, ...]) -> Any:
        param = bracket_name(name)
        if field.item == "object":
            return self.object(_expect_hash(value, param), field.path + "[]", name)
        return _scalar(field.item or "str", field.enum, value, param)


def _expect_hash(value: Any, param: str) -> Params:
    if not isinstance(value, dict):
        raise ParamError(f"Invalid {param}: expected a hash (object), got a string", param=param)
    return value


def _expect_list(value: Any, param: str) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and all(key.isdigit() for key in value):
        # The SDK sends arrays as a[0]=…&a[1]=…; Stripe orders them by index.
        return [value[key] for key in sorted(value, key=int)]
    raise ParamError(f"Invalid array: {param} must be an array", param=param)


def _scalar(kind: str, enum: tuple[str, ...], value: Any, param: str) -> Any:
    if not isinstance(value, str):
        raise ParamError(f"Invalid {param}: expected a string, got a hash or array", param=param)
    if kind == "int":
        if not _INTEGER.match(value):
            raise ParamError(
                f"Invalid integer: {value}", param=param, code="parameter_invalid_integer"
            )
        return int(value)
    if kind == "bool":
        if value not in _BOOLEANS:
            raise ParamError(f"Invalid boolean: {value}", param=param)
        return _BOOLEANS[value]
    if kind in ("float", "decimal"):
        if not _NUMBER.match(value):
            raise ParamError(f"Invalid decimal: {value}", param=param)
        return float(value) if kind == "float" else value  # a decimal keeps its exact text
    if kind == "enum|int":
        if value in enum:
            return value
        if not _INTEGER.match(value):
            raise ParamError(f"Invalid {param}: must be {_one_of(enum)} or an integer", param=param)
        return int(value)
    if kind == "enum" and value not in enum:
        raise ParamError(f"Invalid {param}: must be one of {_one_of(enum)}", param=param)
    return value


def _metadata(value: Params, param: str) -> dict[str, str]:
    if len(value) > METADATA_MAX_KEYS:
        raise ParamError(
            f"Invalid {param}: metadata can have up to {METADATA_MAX_KEYS} keys", param=param
        )
    for key, item in value.items():
        item_param = bracket_name((param, key))
        if not isinstance(item, str):
            raise ParamError(
                f"Invalid {item_param}: metadata values must be strings", param=item_param
            )
        if len(key) > METADATA_KEY_MAX:
            raise ParamError(
                f"Metadata keys can have up to {METADATA_KEY_MAX} characters, but you passed in "
                f"a key that is {len(key)} characters.",
                param=item_param,
            )
        if len(item) > METADATA_VALUE_MAX:
            raise ParamError(
                f"Metadata values can have up to {METADATA_VALUE_MAX} characters, but you passed "
                f"in a value that is {len(item)} characters.",
                param=item_param,
            )
    return dict(value)


def _one_of(values: Sequence[str]) -> str:
    if len(values) <= 2:
        return " or ".join(values)
    return ", ".join(values[:-1]) + f", or {values[-1]}"


@functools.cache
def load_schema() -> dict[str, EndpointSchema]:
    """Every endpoint of the schema, keyed like ``"POST /v1/customers"`` (built once)."""
    return {
        endpoint: EndpointSchema(endpoint, rows)
        for endpoint, rows in document()["requests"].items()
    }


def validate(endpoint: str, params: Params, *, allow_unset: bool = False) -> Params:
    """Validate ``params`` for ``endpoint`` (a key of the schema's "requests")."""
    return load_schema()[endpoint].validate(params, allow_unset=allow_unset)
