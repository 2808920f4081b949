"""Every error the router raises, as one tree; HTTP status is a class attribute.

    RouterError
    ├── PolicyError                   policy file invalid (CLI exit 1, reload kept)
    ├── SchemaError                   metrics database unusable (metrics/store_schema)
    └── HTTPError                     rendered by the error middleware
        ├── InvalidRequest        400 invalid_request_error
        ├── Unauthorized          401 authentication_error
        ├── NotFound              404 invalid_request_error (unknown path)
        ├── MethodNotAllowed      405 invalid_request_error
        ├── RequestTimeout        408 invalid_request_error (body too slow)
        ├── BodyTooLarge          413 invalid_request_error
        ├── HeadersTooLarge       431 invalid_request_error
        ├── PolicyRejected        400 invalid_request_error (reload refused)
        ├── NotReady              503 service_unavailable
        ├── Overloaded            503 server_error (Retry-After; concurrency cap)
        ├── ShuttingDown          503 server_error (Retry-After; drain deadline)
        ├── PrivacyPinned         503 privacy_pinned (kept on this machine)
        ├── BackendFailed         502 upstream_error
        └── BackendTimeout        504 upstream_timeout

Each HTTPError renders as OpenAI's shape:
`{"error": {"message", "type", "param", "code"}}`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec


class RouterError(Exception):
    """Base of everything the router raises on purpose."""


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """One policy problem, located in the source file."""

    file: str
    line: int
    col: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.path}: {self.message}"


class PolicyError(RouterError):
    """A policy that does not load; carries every problem found, in order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class HTTPError(RouterError):
    status: ClassVar[int] = 500
    type: ClassVar[str] = "server_error"
    code: ClassVar[str | None] = None
    # Close the connection once the answer is out (the rest of the request
    # is not worth waiting for).
    closes: ClassVar[bool] = False

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        # Response headers the error goes out with (e.g. x-request-id).
        self.headers: dict[str, str] = {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidRequest(HTTPError):
    status = 400
    type = "invalid_request_error"


class Unauthorized(HTTPError):
    status = 401
    type = "authentication_error"
    code = "invalid_api_key"


class NotFound(HTTPError):
    status = 404
    type = "invalid_request_error"
    code = "not_found"


class MethodNotAllowed(HTTPError):
    status = 405
    type = "invalid_request_error"
    code = "method_not_allowed"


class BodyTooLarge(HTTPError):
    status = 413
    type = "invalid_request_error"
    code = "request_too_large"


class RequestTimeout(HTTPError):
    status = 408
    type = "invalid_request_error"
    code = "request_timeout"
    closes = True


class HeadersTooLarge(HTTPError):
    status = 431
    type = "invalid_request_error"
    code = "request_header_fields_too_large"


class Overloaded(HTTPError):
    """Every request slot and queue place is taken; `Retry-After` says when
    to come back (OpenAI's SDKs honour it)."""

    status = 503
    type = "server_error"
    code = "overloaded"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.headers["Retry-After"] = str(retry_after_s)


class ShuttingDown(HTTPError):
    """The router stopped while this request waited for its backend and the
    drain deadline passed; another instance (or this one, restarted) can
    take it."""

    status = 503
    type = "server_error"
    code = "shutting_down"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.headers["Retry-After"] = "1"


class PolicyRejected(HTTPError):
    status = 400
    type = "invalid_request_error"
    code = "policy_invalid"


class NotReady(HTTPError):
    status = 503
    type = "service_unavailable"
    code = "not_ready"


class PrivacyPinned(HTTPError):
    status = 503
    type = "privacy_pinned"
    code = "privacy_pinned"


class BackendFailed(HTTPError):
    status = 502
    type = "upstream_error"
    code = "backend_failed"


class BackendTimeout(HTTPError):
    status = 504
    type = "upstream_timeout"
    code = "backend_timeout"
