"""Translation stage errors: what cannot be translated, and what broke upstream.

`TranslationError` is a `ValueError` (dispatch maps it to a 400);
`UpstreamStreamError` is a failure the backend reported inside its stream.
"""

from __future__ import annotations

from router.errors import RouterError


class TranslationError(RouterError, ValueError):
    """A request shape the target API cannot express; the message says why."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class UpstreamStreamError(RouterError):
    """The backend failed after its stream had started (an Ollama `error` line,
    or a stream that ended before its final `done` object)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
