"""Stripe's error responses: ``{"error": {"type", "code", "message", "param"}}`` with a status."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from local.stripe.core.validation import ParamError

DOC_URL = "https://stripe.com/docs/error-codes/{code}"


class StripeError(Exception):
    """An API error to send back exactly as Stripe shapes it."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        idempotent_result: bool = True,
    ) -> None:
        super().__init__(message)
        # Stripe keeps no idempotent result for requests refused before the endpoint ran
        # (bad parameters, unknown URL); a retry with the same key may then succeed.
        self.idempotent_result = idempotent_result
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or {}

    def payload(self) -> dict[str, Any]:
        """The JSON body of the response."""
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = DOC_URL.format(code=self.code.replace("_", "-"))
        if self.param:
            error["param"] = self.param
        return {"error": error}

    @classmethod
    def from_param_error(cls, error: ParamError) -> StripeError:
        """The 400 Stripe sends for a parameter the schema rejects."""
        return cls(400, error.message, code=error.code, param=error.param, idempotent_result=False)


def resource_missing(
    kind: str, object_id: str, *, param: str, status: int, other_mode: str | None = None
) -> StripeError:
    """``No such customer: 'cus_…'`` (404 for the URL's object, 400 for a referenced one)."""
    message = f"No such {kind}: '{object_id}'"
    if other_mode is not None:
        used = "test" if other_mode == "live" else "live"
        message += (
            f"; a similar object exists in {other_mode} mode, but a {used} mode key was used "
            "to make this request."
        )
    return StripeError(status, message, code="resource_missing", param=param)


def check_url(url: str, param: str) -> None:
    """Stripe's check of a URL parameter: absolute http(s) with a host, else 400 url_invalid."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise StripeError(400, "Not a valid URL", code="url_invalid", param=param)
