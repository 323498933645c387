"""The error hierarchy shared by every dc-sim module and plugin.

Each error carries a stable machine-readable ``code`` and the HTTP ``status`` that the
host app answers with, so that services can raise domain errors without knowing about
HTTP, and the web layer can turn any of them into an RFC 9457 problem document.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DcsimError(Exception):
    """Base of every error dc-sim raises on purpose.

    Attributes:
        code: stable identifier, dotted, never reused for another meaning.
        status: HTTP status the host app answers with.
        title: short human summary of the kind of problem (constant per class).
        detail: what happened this time.
        extra: further members added to the problem document.
    """

    code: ClassVar[str] = "dcsim.error"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """Return the RFC 9457 problem document for this error."""
        problem: dict[str, Any] = {
            "type": f"urn:dcsim:error:{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if instance:
            problem["instance"] = instance
        problem.update(self.extra)
        return problem


class InvalidInput(DcsimError):
    """The request or argument is malformed or fails validation."""

    code = "invalid_input"
    status = 400
    title = "Invalid input"


class Unauthorized(DcsimError):
    """No credentials, or credentials that are not valid."""

    code = "unauthorized"
    status = 401
    title = "Authentication required"


class Forbidden(DcsimError):
    """Valid credentials whose role does not allow the action."""

    code = "forbidden"
    status = 403
    title = "Not allowed"


class NotFound(DcsimError):
    """The named object does not exist."""

    code = "not_found"
    status = 404
    title = "Not found"


class Conflict(DcsimError):
    """The action clashes with the object's current state or version."""

    code = "conflict"
    status = 409
    title = "Conflict"


class PreconditionFailed(DcsimError):
    """An ``If-Match`` precondition failed: the record changed since the client read it."""

    code = "precondition_failed"
    status = 412
    title = "Precondition failed"


class PayloadTooLarge(DcsimError):
    """The request body is larger than the configured limit."""

    code = "payload_too_large"
    status = 413
    title = "Payload too large"


class Unavailable(DcsimError):
    """A backing service (store, bus, CMDB backend ...) cannot be reached."""

    code = "unavailable"
    status = 503
    title = "Service unavailable"


class ServiceUnavailable(DcsimError):
    """A service an action needs is not there: the plugin providing it is disabled or failed.

    Not an :class:`Unavailable`: waiting does not bring it back, so nothing retries it.
    """

    code = "service_unavailable"
    status = 503
    title = "Service not available"


class ConfigError(DcsimError):
    """The configuration is invalid (unknown driver, bad value)."""

    code = "config_error"
    status = 500
    title = "Configuration error"


class PluginLoadError(DcsimError):
    """A plugin could not be loaded and strict mode is on."""

    code = "plugin_load_failed"
    status = 500
    title = "Plugin failed to load"


class PluginContractError(DcsimError):
    """A plugin broke the hook contract: a value a hook may not return, for instance.

    The problem document names the plugin, the hook and the value (members
    ``plugin``, ``hook``, ``value``), so the operator knows whom to ask.
    """

    code = "plugin_contract"
    status = 500
    title = "A plugin broke the hook contract"
