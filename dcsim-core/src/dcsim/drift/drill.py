"""The scripted drill: a mixed series of faults and out-of-band changes, then the scorecard.

It talks to a dc-sim over its own API only (``/sim``, ``/drift``), so the same drill runs
against a test client, ``dcsim serve`` (``dcsim drill run``) or a shared server.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from dcsim.drift.policies import WATCHED_FILES


class Http(Protocol):
    """What the drill needs of an HTTP client (httpx's and Litestar's test client fit)."""

    def get(self, url: str, **kwargs: Any) -> Any: ...
    def post(self, url: str, **kwargs: Any) -> Any: ...
    def put(self, url: str, **kwargs: Any) -> Any: ...


def _ok(response: Any) -> Any:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json()


def plan(http: Http, size: int = 24) -> list[tuple[str, dict[str, Any]]]:
    """The drill's steps for the estate behind ``http``: (path, body) pairs, at least ``size``.

    Power changes behind the CMDB's back, host failures (the second and third hosts), a
    network partition, NICs moved to another network behind the CMDB's back, then file
    edits on the watched files of every node.
    """
    vms = [vm for vm in _ok(http.get("/sim/vms?limit=500"))["items"] if vm.get("node")]
    hosts = [h["name"] for h in _ok(http.get("/sim/hosts"))["items"]]
    networks = _ok(http.get("/sim/networks"))["items"]
    steps: list[tuple[str, dict[str, Any]]] = []
    powered = [vm for vm in vms if vm["power_state"] == "on"][: max(1, len(vms) // 3)]
    for vm in powered:
        steps.append(("/drift/truth/changes", {"kind": "power", "node": vm["node"]["name"], "state": "off"}))
    for host in hosts[1:3]:
        steps.append(("/sim/inject/host-failure", {"host": host}))
    if networks:
        steps.append(("/sim/inject/network-partition", {"network": networks[-1]["name"]}))
    for vm in [vm for vm in vms if vm.get("nics")][-2:]:
        elsewhere = next((n for n in networks if n["id"] != vm["nics"][0]["network_id"]), None)
        if elsewhere is not None:
            move = {"kind": "network", "node": vm["node"]["name"], "network": elsewhere["id"]}
            steps.append(("/drift/truth/changes", move))
    edits = [(vm["node"]["name"], path) for path in WATCHED_FILES for vm in vms]
    for number, (node, path) in enumerate(edits[: max(0, size - len(steps))], start=1):
        content = f"# changed by hand during the drill ({number})\n"
        steps.append(("/drift/truth/changes", {"kind": "file", "node": node, "path": path, "content": content}))
    return steps


def run(
    http: Http,
    size: int = 24,
    timeout: float = 30.0,
    say: Callable[[str], None] = print,
    settle: float = 0.0,
    auto_remediate: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Run the drill; wait until every item is detected (or ``timeout``), then up to
    ``settle`` seconds while remediations run; return the score.

    ``auto_remediate`` names policies to switch auto-remediation on for first (the seed
    leaves it off), so that the runner's remediations are timed too.
    """
    for policy_id in auto_remediate:
        policy = _ok(http.get(f"/drift/policies/{policy_id}")) | {"auto_remediate": True}
        _ok(http.put(f"/drift/policies/{policy_id}", json=policy))
    steps = plan(http, size)
    for path, body in steps:
        _ok(http.post(path, json=body))
    deadline = time.monotonic() + timeout
    score = _ok(http.get("/drift/score"))
    while score["detected"] < score["injected"] and time.monotonic() < deadline:
        time.sleep(0.2)
        score = _ok(http.get("/drift/score"))
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline and _ok(http.get("/drift/events?state=remediating"))["total"]:
        time.sleep(0.5)
    score = _ok(http.get("/drift/score"))
    say(scorecard(score))
    return dict(score)


def scorecard(score: dict[str, Any]) -> str:
    """The score as a few lines of text."""

    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f} s"

    lines = [
        f"injected {score['injected']}, detected {score['detected']}, detections {score['detections']}",
        f"precision {score['precision']:.3f}  recall {score['recall']:.3f}",
        f"time to detect: mean {seconds(score['mean_time_to_detect'])}, p95 {seconds(score['p95_time_to_detect'])}",
        f"time to remediate: mean {seconds(score['mean_time_to_remediate'])}",
        "detection times: " + ", ".join(f"{t:.3f}" for t in score["detection_times"]),
    ]
    lines += [f"missed: {item['source']} {item['name']} {item['field'] or ''}" for item in score["missed"]]
    lines += [f"false positive: {e['ci_name']} {e['field']}" for e in score["false_positives"]]
    return "\n".join(lines)
