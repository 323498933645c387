"""The UCS Manager XML API: one request element in, one response element out.

Every answer is HTTP 200 with an XML body, as UCS Manager's are: a failed method is its
response element carrying ``errorCode``, ``errorDescr`` and ``invocationResult``; a
request that is not acceptable XML gets an ``<error>`` element. Successes carry no
``errorCode`` at all (ucsmsdk treats even ``errorCode="0"`` as a failure).
"""

from __future__ import annotations

import traceback
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable

import defusedxml
import defusedxml.ElementTree as SafeET
import structlog

from dcsim.errors import DcsimError, NotFound
from dcsim_ucs.classes import class_meta
from dcsim_ucs.config import Change, read_changes
from dcsim_ucs.errors import UcsError, invalid_config, parse_error, unknown_class
from dcsim_ucs.filters import parse_filter
from dcsim_ucs.manager import UcsManager
from dcsim_ucs.mo import Mo, Tree
from dcsim_ucs.sessions import Session

log = structlog.get_logger(__name__)

#: How deep a request may nest. UCS Manager's deepest requests (a hierarchical
#: configConfMos, nested filters) stay well under 20 levels; deeper ones are refused
#: before any method walks them (recursion would otherwise fail far from the cause).
MAX_DEPTH = 64
#: Characters of an unexpected error's message and frames of its traceback that are logged.
_LOGGED_CHARS = 300
_LOGGED_FRAMES = 5

Handler = Callable[["XmlApi", ET.Element], Awaitable[ET.Element]]
_METHODS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    """Register the handler of XML API method ``name``."""

    def register(handler: Handler) -> Handler:
        _METHODS[name] = handler
        return handler

    return register


class XmlApi:
    """Answers ``POST /nuova`` bodies for one :class:`UcsManager`."""

    def __init__(self, manager: UcsManager) -> None:
        self.manager = manager

    async def handle(self, body: bytes) -> bytes | AsyncIterator[bytes]:
        """The response document for a request document, or the records of an event
        channel (``eventSubscribe``); never raises."""
        try:
            request = SafeET.fromstring(body, forbid_dtd=True)
        except (defusedxml.DefusedXmlException, ET.ParseError, ValueError) as exc:
            return _bytes(_error_element("error", "", parse_error(f"not acceptable XML: {exc}")))
        if _too_deep(request):
            log.warning("ucs.xml_refused", reason=f"nested deeper than {MAX_DEPTH}", bytes=len(body))
            return _bytes(
                _error_element("error", "", parse_error(f"not acceptable XML: nested deeper than {MAX_DEPTH}"))
            )
        if request.tag == "eventSubscribe":
            try:
                return await self.manager.channels.open(await self.session(request))
            except UcsError as exc:
                return _bytes(_error_element(request.tag, request.get("cookie", ""), exc))
            except NotFound as exc:  # the first channel builds the tree: no domain to build it from
                error = UcsError("ERR-no-domain", exc.detail)
                return _bytes(_error_element(request.tag, request.get("cookie", ""), error))
        handler = _METHODS.get(request.tag)
        if handler is None:
            return _bytes(_error_element("error", "", parse_error(f"unknown method {request.tag!r}")))
        try:
            response = await handler(self, request)
        except UcsError as exc:
            response = _error_element(request.tag, request.get("cookie", ""), exc)
        except NotFound as exc:
            response = _error_element(request.tag, request.get("cookie", ""), UcsError("ERR-no-domain", exc.detail))
        except DcsimError as exc:
            log.warning("ucs.method_error", method=request.tag, code=exc.code, detail=exc.detail)
            response = _error_element(request.tag, request.get("cookie", ""), UcsError(f"ERR-{exc.code}", exc.detail))
        except Exception as exc:
            # Still UCS's format: a client must never have to parse a traceback. The log
            # line is bounded too: a request must not be able to write more than it sent.
            log.error("ucs.method_crashed", method=request.tag, error=_bounded(exc))
            error = UcsError(
                "ERR-internal", f"dc-sim failed to process {request.tag}; see its log", "service-unavailable"
            )
            response = _error_element(request.tag, request.get("cookie", ""), error)
        if response.get("errorCode"):
            log.info("ucs.method_failed", method=request.tag, code=response.get("errorCode"),
                     descr=response.get("errorDescr"))  # fmt: skip
        return _bytes(response)

    async def session(self, request: ET.Element) -> Session:
        """The request's live session (its ``cookie`` attribute)."""
        return await self.manager.sessions.check(request.get("cookie"))


def _too_deep(root: ET.Element) -> bool:
    """Whether the document nests deeper than :data:`MAX_DEPTH` (walked without recursion)."""
    level = [root]
    for _ in range(MAX_DEPTH):
        level = [child for element in level for child in element]
        if not level:
            return False
    return True


def _bounded(exc: BaseException) -> str:
    """An exception's type, message and innermost frames, in a bounded number of characters."""
    frames = traceback.extract_tb(exc.__traceback__)[-_LOGGED_FRAMES:]
    where = " < ".join(f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno} {frame.name}" for frame in reversed(frames))
    return f"{type(exc).__name__}: {str(exc)[:_LOGGED_CHARS]} at {where}"


def _bytes(element: ET.Element) -> bytes:
    text: bytes = ET.tostring(element, encoding="utf-8")
    return text


def _error_element(tag: str, cookie: str, error: UcsError) -> ET.Element:
    return ET.Element(tag, {
        "cookie": cookie, "response": "yes", "errorCode": error.code, "invocationResult": error.invocation_result,
        "errorDescr": error.descr,
    })  # fmt: skip


def _response(request: ET.Element, *echo: str) -> ET.Element:
    attrs = {"cookie": request.get("cookie", ""), "response": "yes"}
    attrs |= {name: request.get(name, "") for name in echo if request.get(name) is not None}
    return ET.Element(request.tag, attrs)


def _hierarchical(request: ET.Element) -> bool:
    return request.get("inHierarchical", "false").lower() in ("true", "yes")


def _outconfigs(response: ET.Element, tree: Tree, objects: list[Mo], hierarchical: bool) -> ET.Element:
    out = ET.SubElement(response, "outConfigs")
    for mo in objects:
        out.append(tree.element(mo, hierarchical=hierarchical))
    return response


# Sessions -----------------------------------------------------------------------------


@method("aaaLogin")
async def aaa_login(api: XmlApi, request: ET.Element) -> ET.Element:
    session = await api.manager.sessions.login(request.get("inName", ""), request.get("inPassword", ""))
    return _session_response(api, request, session)


@method("aaaRefresh")
async def aaa_refresh(api: XmlApi, request: ET.Element) -> ET.Element:
    session = await api.manager.sessions.refresh(
        request.get("inCookie") or request.get("cookie"), request.get("inName", ""), request.get("inPassword", "")
    )
    return _session_response(api, request, session)


def _session_response(api: XmlApi, request: ET.Element, session: Session) -> ET.Element:
    try:
        version = api.manager.domain().firmware
    except NotFound:
        version = ""
    return ET.Element(request.tag, {
        "cookie": "", "response": "yes", "outCookie": session.cookie,
        "outRefreshPeriod": str(api.manager.settings.session_seconds), "outPriv": session.privilege,
        "outDomains": "", "outChannel": "noencssl", "outEvtChannel": "noencssl", "outSessionId": session.session_id,
        "outVersion": version, "outName": session.user,
    })  # fmt: skip


@method("aaaKeepAlive")
async def aaa_keep_alive(api: XmlApi, request: ET.Element) -> ET.Element:
    await api.manager.sessions.keep_alive(request.get("cookie"))
    return _response(request)


@method("aaaLogout")
async def aaa_logout(api: XmlApi, request: ET.Element) -> ET.Element:
    await api.manager.sessions.logout(request.get("inCookie") or request.get("cookie"))
    response = _response(request)
    response.set("outStatus", "success")
    return response


# Queries ------------------------------------------------------------------------------


@method("configResolveDn")
async def config_resolve_dn(api: XmlApi, request: ET.Element) -> ET.Element:
    await api.session(request)
    tree = await api.manager.tree()
    response = _response(request, "dn")
    out = ET.SubElement(response, "outConfig")
    mo = tree.get(request.get("dn", ""))
    if mo is not None:
        out.append(tree.element(mo, hierarchical=_hierarchical(request)))
    return response


@method("configResolveDns")
async def config_resolve_dns(api: XmlApi, request: ET.Element) -> ET.Element:
    await api.session(request)
    tree = await api.manager.tree()
    dns = [element.get("value", "") for element in request.findall("inDns/dn")]
    found = [mo for dn in dns if (mo := tree.get(dn)) is not None]
    response = _outconfigs(_response(request), tree, found, _hierarchical(request))
    unresolved = ET.SubElement(response, "outUnresolved")
    for dn in dns:
        if dn not in tree:
            ET.SubElement(unresolved, "dn", {"value": dn})
    return response


@method("configResolveClass")
async def config_resolve_class(api: XmlApi, request: ET.Element) -> ET.Element:
    await api.session(request)
    class_id = _class(request.get("classId", ""))
    predicate = parse_filter(request.find("inFilter"))
    tree = await api.manager.tree()
    found = [mo for mo in tree.of_class(class_id) if predicate(mo)]
    return _outconfigs(_response(request, "classId"), tree, found, _hierarchical(request))


@method("configResolveClasses")
async def config_resolve_classes(api: XmlApi, request: ET.Element) -> ET.Element:
    await api.session(request)
    class_ids = [_class(element.get("value", "")) for element in request.findall("inIds/*")]
    tree = await api.manager.tree()
    found = [mo for class_id in class_ids for mo in tree.of_class(class_id)]
    return _outconfigs(_response(request), tree, found, _hierarchical(request))


@method("configResolveChildren")
async def config_resolve_children(api: XmlApi, request: ET.Element) -> ET.Element:
    await api.session(request)
    class_id = _class(request.get("classId")) if request.get("classId") else None
    predicate = parse_filter(request.find("inFilter"))
    tree = await api.manager.tree()
    children = [
        mo
        for mo in tree.children(request.get("inDn", ""))
        if (class_id is None or mo.class_id == class_id) and predicate(mo)
    ]
    return _outconfigs(_response(request, "classId"), tree, children, _hierarchical(request))


@method("configScope")
async def config_scope(api: XmlApi, request: ET.Element) -> ET.Element:
    await api.session(request)
    class_id = _class(request.get("inClass", ""))
    predicate = parse_filter(request.find("inFilter"))
    tree = await api.manager.tree()
    found = [mo for mo in tree.descendants(request.get("dn", "")) if mo.class_id == class_id and predicate(mo)]
    return _outconfigs(_response(request, "dn"), tree, found, _hierarchical(request))


def _class(class_id: str | None) -> str:
    meta = class_meta(class_id or "")
    if meta is None:
        raise unknown_class(class_id or "")
    return meta.name


# Configuration ------------------------------------------------------------------------


@method("configConfMo")
async def config_conf_mo(api: XmlApi, request: ET.Element) -> ET.Element:
    session = await api.session(request)
    config = request.find("inConfig")
    if config is None or len(config) != 1:
        raise invalid_config("configConfMo takes exactly one object inside <inConfig>")
    changes = read_changes(config[0])
    if changes[0].dn != request.get("dn", changes[0].dn):
        raise invalid_config(f"dn {request.get('dn')!r} differs from the object's {changes[0].dn!r}")
    plan, tree = await api.manager.configure(session, changes)
    response = _response(request, "dn")
    out = ET.SubElement(response, "outConfig")
    out.append(_echo(tree, changes[0], plan.results[0][1], _hierarchical(request)))
    return response


@method("configConfMos")
async def config_conf_mos(api: XmlApi, request: ET.Element) -> ET.Element:
    session = await api.session(request)
    pairs = request.findall("inConfigs/pair")
    tops: list[Change] = []
    changes: list[Change] = []
    for pair in pairs:
        if len(pair) != 1:
            raise invalid_config(f"pair {pair.get('key')!r} must hold exactly one object")
        these = read_changes(pair[0])
        if pair.get("key") not in (None, these[0].dn):
            raise invalid_config(f"pair key {pair.get('key')!r} differs from the object's dn {these[0].dn!r}")
        tops.append(these[0])
        changes.extend(these)
    plan, tree = await api.manager.configure(session, changes)
    status = dict(plan.results)
    response = _response(request)
    out = ET.SubElement(response, "outConfigs")
    for top in tops:
        pair = ET.SubElement(out, "pair", {"key": top.dn})
        pair.append(_echo(tree, top, status[top.dn], _hierarchical(request)))
    return response


def _echo(tree: Tree, change: Change, status: str, hierarchical: bool) -> ET.Element:
    mo = tree.get(change.dn)
    if mo is None:  # deleted: echo what was sent, as UCS Manager does
        return ET.Element(change.class_id, {"dn": change.dn, "status": "deleted"})
    return tree.element(mo, hierarchical=hierarchical, status=status)


@method("lsInstantiateTemplate")
async def ls_instantiate_template(api: XmlApi, request: ET.Element) -> ET.Element:
    session = await api.session(request)
    name = request.get("inServerName", "")
    tree, dn = await _instantiate(api, session, request, [name], request.get("inErrorOnExisting", "true"))
    response = _response(request, "dn")
    out = ET.SubElement(response, "outConfig")
    mo = tree.get(dn[0])
    if mo is not None:
        out.append(tree.element(mo, hierarchical=_hierarchical(request)))
    return response


@method("lsInstantiateNTemplate")
async def ls_instantiate_n_template(api: XmlApi, request: ET.Element) -> ET.Element:
    session = await api.session(request)
    try:
        count = int(request.get("inNumberOf", ""))
    except ValueError as exc:
        raise invalid_config("inNumberOf must be a number") from exc
    if not 1 <= count <= 255:
        raise invalid_config("inNumberOf must be from 1 to 255")
    prefix = request.get("inServerNamePrefixOrEmpty", "") or _template_name(request.get("dn", ""))
    tree_before = await api.manager.tree()
    target = request.get("inTargetOrg", "") or "org-root"
    names: list[str] = []
    index = 1
    while len(names) < count:
        if f"{target}/ls-{prefix}{index}" not in tree_before:
            names.append(f"{prefix}{index}")
        index += 1
    tree, dns = await _instantiate(api, session, request, names, "true")
    return _outconfigs(_response(request, "dn"), tree, [mo for dn in dns if (mo := tree.get(dn))],
                       _hierarchical(request))  # fmt: skip


async def _instantiate(
    api: XmlApi, session: Session, request: ET.Element, names: list[str], error_on_existing: str
) -> tuple[Tree, list[str]]:
    template_dn = request.get("dn", "")
    target = request.get("inTargetOrg", "") or template_dn.rpartition("/")[0] or "org-root"
    tree = await api.manager.tree()
    template = tree.get(template_dn)
    if template is None or template.class_id != "lsServer" or template.attrs.get("type") == "instance":
        raise invalid_config(f"{template_dn!r} is not a service profile template")
    if any(not name for name in names):
        raise invalid_config("inServerName is required")
    dns = [f"{target}/ls-{name}" for name in names]
    existing = [dn for dn in dns if dn in tree]
    if existing and error_on_existing.lower() in ("true", "yes"):
        raise UcsError("103", f"can't create; object already exists: {', '.join(existing)}")
    changes = [
        Change(class_id="lsServer", dn=dn, status={"created"},
               attrs={"name": name, "type": "instance", "srcTemplName": template.attrs["name"]})
        for name, dn in zip(names, dns, strict=True)
        if dn not in existing
    ]  # fmt: skip
    if changes:
        _, tree = await api.manager.configure(session, changes)
    return tree, dns


def _template_name(dn: str) -> str:
    return dn.rpartition("/ls-")[2]


__all__ = ["XmlApi"]
