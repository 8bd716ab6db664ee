"""Typed errors of the service. Each carries its HTTP status and stable error code.

They are mapped to a JSON response in one place (`responses.error_response`); handlers only raise.
"""

from __future__ import annotations


class ApiError(Exception):
    """An error the caller sees as `{"error": {"code", "message"}}` with `status`."""

    status: int = 500
    code: str = "internal"

    def __init__(
        self, message: str, *, code: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.headers: dict[str, str] = dict(headers or {})


class BadRequest(ApiError):
    status, code = 400, "invalid_request"


class NotForSale(BadRequest):
    """A deep link names something the stack's portal does not sell (`deep_links.py`).

    Each subclass is one code a frontend can show: the caller's page offered a plan, a quantity
    or an offer that the deployment does not have.
    """


class PriceNotAllowed(NotForSale):
    code = "price_not_allowed"


class InvalidQuantity(NotForSale):
    code = "invalid_quantity"


class TooManyItems(NotForSale):
    code = "too_many_items"


class CouponNotAllowed(NotForSale):
    code = "coupon_not_allowed"


class Unauthorized(ApiError):
    status, code = 401, "invalid_token"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        # RFC 6750: tell the client which scheme and why, without echoing the token.
        super().__init__(
            message, code=code, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class MethodNotAllowed(ApiError):
    status, code = 405, "method_not_allowed"


class Conflict(ApiError):
    status, code = 409, "conflict"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


class RateLimited(ApiError):
    status, code = 429, "rate_limited"


class UpstreamError(ApiError):
    """A dependency answered, but with an error we cannot turn into a result."""

    status, code = 502, "upstream_error"


class StoredFailure(UpstreamError):
    """Stripe replayed a 5xx it stored for the idempotency key (it keeps a request's first
    result, errors included, for 24 h): that key never makes anything; `original_request` is
    the id of the request that failed."""

    def __init__(self, original_request: str) -> None:
        super().__init__("Stripe returned an error.", code="stripe_error")
        self.original_request = original_request


class MappingMalformed(UpstreamError):
    """The mapping document has a field of the wrong type or shape (a hand edit, a bad import)."""

    code = "mapping_malformed"


class MappingConflict(UpstreamError):
    """The mapping document read for a user records another user: never open that portal."""

    code = "mapping_conflict"


class Unavailable(ApiError):
    """A dependency could not be reached in time; retrying later may work."""

    status, code = 503, "unavailable"


class CustomerMissing(Exception):
    """Stripe says the mapped customer no longer exists (deleted in the Dashboard or by API)."""

    def __init__(self, customer_id: str) -> None:
        super().__init__(customer_id)
        self.customer_id = customer_id
