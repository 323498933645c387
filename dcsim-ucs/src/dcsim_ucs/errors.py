"""UCS Manager's own errors: what ``/nuova`` answers instead of a Python traceback.

UCS Manager reports a failed method with HTTP 200 and three attributes on the response
element: ``errorCode``, ``errorDescr`` and ``invocationResult``. Codes are the ones UCS
Manager uses where they are known (551, 552, 103); the rest follow its ``ERR-*`` naming.
"""

from __future__ import annotations


class UcsError(Exception):
    """A method failed; rendered as the method's response element with error attributes."""

    def __init__(self, code: str, descr: str, invocation_result: str = "unidentified-fail") -> None:
        super().__init__(f"{code}: {descr}")
        self.code = code
        self.descr = descr
        self.invocation_result = invocation_result


def parse_error(descr: str) -> UcsError:
    """The request is not XML dc-sim can accept (malformed, hostile or unknown method)."""
    return UcsError("ERR-xml-parse-error", descr, "594")


def authentication_failed() -> UcsError:
    """Wrong user name or password."""
    return UcsError("551", "Authentication failed")


def authorization_required() -> UcsError:
    """No cookie, an unknown one, or one that expired or was logged out."""
    return UcsError("552", "Authorization required", "service-unavailable")


def not_privileged(user: str) -> UcsError:
    """A read-only session tried to change something."""
    return UcsError("ERR-aaa-config-modify-error", f"user {user} has read-only privileges: nothing was changed")


def unknown_class(class_id: str) -> UcsError:
    """A class id the managed object tree does not have."""
    return UcsError("ERR-MO-unknown-class", f"unknown class {class_id!r}")


def invalid_config(descr: str) -> UcsError:
    """A configuration change that cannot be applied; nothing of the request was applied."""
    return UcsError("ERR-MO-CONFIG-invalid", descr)


def already_exists(dn: str) -> UcsError:
    """``status="created"`` on a DN that exists."""
    return UcsError("103", f"can't create; object already exists: {dn}")


def does_not_exist(dn: str) -> UcsError:
    """A change to, or under, a DN that does not exist."""
    return UcsError("ERR-MO-object-not-found", f"object {dn} does not exist")
