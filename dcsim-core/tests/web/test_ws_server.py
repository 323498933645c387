"""``/ws`` on a real ``dcsim serve`` (uvicorn with core's WebSocket implementation):
events arrive, a token given in the query string appears in no log line, a foreign
Origin is refused."""

from __future__ import annotations

import json
import urllib.request

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from dcsim.testing import run_server


def _publish(server, token: str, event_type: str) -> None:
    request = urllib.request.Request(
        f"{server.url}/events",
        data=json.dumps({"type": event_type, "data": {"note": "from the ws test"}}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202


def test_ws_delivers_events_and_its_query_token_reaches_no_log(tmp_path):
    log_path = tmp_path / "server.log"
    # DEBUG: even the most talkative configuration must not print the token.
    with run_server(tmp_path / "data", env={"DCSIM_LOG_LEVEL": "DEBUG"}, log_path=log_path) as server:
        ws_url = f"ws://127.0.0.1:{server.port}/ws?types=drift.*&token={server.token}"
        with connect(ws_url, open_timeout=10) as socket:
            _publish(server, server.token, "drift.detected")
            event = json.loads(socket.recv(timeout=10))
        assert event["type"] == "drift.detected"
        assert event["data"] == {"note": "from the ws test"}

        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url, open_timeout=10, origin="http://evil.example")
        assert refused.value.response.status_code == 403
        # A browser page served by dc-sim itself may connect.
        with connect(ws_url, open_timeout=10, origin=server.url):
            pass
    log = log_path.read_text()
    assert "WebSocket /ws" in log or "ws.refused" in log, log[-2000:]
    assert server.token not in log
    if "WebSocket /ws" in log:  # uvicorn logs the request line (Granian does not): masked
        assert "token=***" in log, log[-2000:]
