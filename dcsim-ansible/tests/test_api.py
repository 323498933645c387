"""The /ansible API with the in-process worker: runs, events, stdout, playbooks, roles, strict input."""

from __future__ import annotations

from typing import Any

from conftest import wait_run


def _client(make_client: Any, ansible_settings: dict[str, Any], role: str = "admin") -> Any:
    return make_client(role=role, plugins={"ansible": ansible_settings})


def test_a_run_of_a_project_playbook_completes_with_events_stats_and_stdout(make_client, ansible_settings):
    client = _client(make_client, ansible_settings)
    answer = client.post("/ansible/run", json={"playbook": "local-echo", "extra_vars": {"message": "howdy"}})
    assert answer.status_code == 202, answer.text
    run = wait_run(client, answer.json()["id"])
    assert run["status"] == "successful" and run["rc"] == 0
    assert run["stats"] == {
        "localhost": {"ok": 2, "changed": 1, "failures": 0, "unreachable": 0, "skipped": 0, "rescued": 0, "ignored": 0}
    }
    assert [t["task"] for t in run["changed_tasks"]] == ["Say it"]
    assert run["started_at"] and run["finished_at"] and run["trigger"] == "api"
    events = client.get(f"/ansible/runs/{run['id']}/events?limit=3").json()
    assert events["total"] == run["event_count"] >= 8
    assert [e["seq"] for e in events["items"]] == [1, 2, 3]
    assert events["items"][0]["event"] == "playbook_on_start"
    rest = client.get(f"/ansible/runs/{run['id']}/events?offset=3&limit=1000").json()["items"]
    assert rest[-1]["event"] == "playbook_on_stats"
    stdout = client.get(f"/ansible/runs/{run['id']}/stdout").json()["stdout"]
    assert "PLAY RECAP" in stdout and "howdy" in stdout
    listed = client.get("/ansible/runs?status=successful&playbook=local-echo").json()
    assert [r["id"] for r in listed["items"]] == [run["id"]]
    assert client.get("/ansible/runs?status=failed").json()["total"] == 0
    assert client.get("/ansible/runs?trigger=drift.detected").json()["total"] == 0
    assert client.get("/ansible/runs?trigger=api&since=2000-01-01T00:00:00Z").json()["total"] == 1
    assert client.get("/ansible/runs?until=2000-01-01T00:00:00Z").json()["total"] == 0
    assert client.get("/ansible/runs?since=yesterday").status_code == 400


def test_tags_check_mode_and_limit_reach_ansible(make_client, ansible_settings):
    client = _client(make_client, ansible_settings)
    answer = client.post("/ansible/run", json={"playbook": "local-echo", "tags": ["nothing-has-this"]})
    run = wait_run(client, answer.json()["id"])
    assert run["status"] == "successful"
    assert run["stats"] == {} or all(s["changed"] == 0 for s in run["stats"].values())
    checked = wait_run(client, client.post("/ansible/run", json={"playbook": "local-echo", "check": True}).json()["id"])
    # command is skipped in check mode: nothing changed, and ansible says so
    assert checked["stats"]["localhost"]["changed"] == 0 and checked["stats"]["localhost"]["skipped"] == 1


def test_playbooks_list_headers_and_unknown_playbook_is_404(make_client, ansible_settings):
    client = _client(make_client, ansible_settings)
    books = {b["name"]: b for b in client.get("/ansible/playbooks?limit=1000").json()["items"]}
    echo = books["local-echo"]
    assert echo["source"] == "project" and echo["tags"] == ["test"] and echo["hosts"] == "localhost"
    assert {v["name"]: v["secret"] for v in echo["variables"]} == {"message": False, "secret_word": True}
    assert books["no-header"]["header_error"]
    answer = client.post("/ansible/run", json={"playbook": "no-such-book"})
    assert answer.status_code == 404 and answer.headers["content-type"].startswith("application/problem+json")


def test_input_is_strict_and_viewers_cannot_run(make_client, ansible_settings):
    client = _client(make_client, ansible_settings)
    bad = client.post("/ansible/run", json={"playbook": "local-echo", "forks": "5", "colour": "red"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} >= {"forks", "colour"}
    assert client.get("/ansible/runs?status=sleeping").status_code == 400
    viewer = _client(make_client, ansible_settings, role="viewer")
    assert viewer.post("/ansible/run", json={"playbook": "local-echo"}).status_code == 403
    assert viewer.get("/ansible/runs").status_code == 200
    assert viewer.get("/ansible/runs/nope").status_code == 404


PROBLEM = "application/problem+json"


def test_every_ansible_operation_is_typed_and_documents_its_problems(make_client, ansible_settings):
    client = _client(make_client, ansible_settings)
    document = client.get("/schema/openapi.json").json()
    operations = [
        (path, method, op)
        for path, item in document["paths"].items()
        if path.startswith("/ansible")
        for method, op in item.items()
    ]
    assert len(operations) == 10
    for path, method, operation in operations:
        statuses = set(operation["responses"])
        expected = {"400", "401", "403", "429"} | ({"413", "415", "422"} if "requestBody" in operation else set())
        assert expected <= statuses, (method, path, statuses)
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert set(response["content"]) == {PROBLEM}, (method, path, status)
        if "requestBody" in operation:
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            model = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
            assert model["additionalProperties"] is False, (method, path)
    run = document["paths"]["/ansible/run"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in run.get("parameters", [])}
    page = document["paths"]["/ansible/runs"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert "Page" in page["$ref"]


def test_a_retried_run_request_with_the_same_idempotency_key_queues_one_run(make_client, ansible_settings):
    client = _client(make_client, ansible_settings | {"worker": False})
    headers = {"Idempotency-Key": "run-once-1234"}
    first = client.post("/ansible/run", json={"playbook": "local-echo"}, headers=headers)
    again = client.post("/ansible/run", json={"playbook": "local-echo"}, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert client.get("/ansible/runs").json()["total"] == 1
