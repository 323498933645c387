"""Acceptance 7: a Vault-encrypted extra var (and a secret extra var) is used by the play
and appears in no event, log line, stored document or stdout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import VAULT_PASSWORD, wait_run

from dcsim.convert import to_json

VAULTED = "vaulted-Pa55phrase-9f2c"
SECRET = "plain-S3cret-Value-71ab"


def _encrypt_string(tmp_path: Path, value: str) -> str:
    """Ciphertext from ansible-vault itself, as a user would make it."""
    password_file = tmp_path / "vault-pass"
    password_file.write_text(VAULT_PASSWORD)
    vault = Path(sys.executable).parent / "ansible-vault"
    out = subprocess.run(
        [str(vault), "encrypt_string", "--vault-password-file", str(password_file), value],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # "!vault |" then the indented ciphertext lines
    return "\n".join(line.strip() for line in out.splitlines()[1:] if line.strip()) + "\n"


def test_vault_and_secret_vars_are_used_and_never_shown(
    make_client: Any, ansible_settings: dict[str, Any], tmp_path: Path, capfd: Any, caplog: Any
) -> None:
    client = make_client(plugins={"ansible": ansible_settings})
    ciphertext = _encrypt_string(tmp_path, VAULTED)
    body = {"playbook": "local-echo", "vault_vars": {"secret_word": ciphertext}, "secret_vars": {"message": SECRET}}
    answer = client.post("/ansible/run", json=body)
    assert answer.status_code == 202, answer.text
    run = wait_run(client, answer.json()["id"])
    assert run["status"] == "successful"
    assert run["secret_var_names"] == ["message", "secret_word"]

    events = client.get(f"/ansible/runs/{run['id']}/events?limit=1000").json()["items"]
    stdout = client.get(f"/ansible/runs/{run['id']}/stdout").json()["stdout"]
    # The play used both values: the command's output is there, with the values masked.
    said = [e for e in events if e["event"] == "runner_on_ok" and e["task"] == "Say it"]
    assert said[0]["data"]["res"]["stdout"] == "******** ********"
    assert "******** and ********" in stdout

    client.call(client.sim.relay.drain)
    bus = client.get("/events?limit=1000").json()["items"]
    assert any(e["type"] == "ansible.run.log" for e in bus)
    shown = "\n".join(
        [
            answer.text,
            str(run),
            str(events),
            stdout,
            str(bus),
            str(client.get("/ansible/runs").json()),
            str([to_json(e) for _, e in client.call(client.sim.bus.recent, 1000)]),
        ]
    )
    captured = capfd.readouterr()
    logs = captured.out + captured.err + caplog.text
    data_dir = client.sim.settings.data_dir
    store = b"".join(p.read_bytes() for p in data_dir.glob("dcsim.sqlite3*"))
    assert b"ansible.run.log" in store
    for secret in (VAULTED, SECRET):
        assert secret not in shown
        assert secret not in logs
        assert secret.encode() not in store


def test_a_vault_var_that_is_not_ciphertext_of_the_password_is_refused(
    make_client: Any, ansible_settings: dict[str, Any]
) -> None:
    client = make_client(plugins={"ansible": ansible_settings})
    bad = client.post("/ansible/run", json={"playbook": "local-echo", "vault_vars": {"secret_word": "nope"}})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "vault_vars.secret_word"
    without = make_client(plugins={"ansible": {"project_dirs": ansible_settings["project_dirs"]}})
    refused = without.post("/ansible/run", json={"playbook": "local-echo", "secret_vars": {"message": "x1234"}})
    assert refused.status_code == 400 and "vault_password" in refused.json()["detail"]


VAULT_FILE_SECRET = "from-a-vault-file-5e1d"

PLAYBOOK_WITH_VAULT_FILE = """\
# description: Use a value from an Ansible Vault file (secrets test).
---
- name: Vault file
  hosts: localhost
  connection: local
  gather_facts: false
  vars_files: [secrets.yml]
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Use it
      ansible.builtin.command: echo "db={{ db_password }}"
"""


def test_a_value_from_a_vault_file_of_the_project_never_shows(
    make_client: Any, ansible_settings: dict[str, Any], tmp_path: Path, capfd: Any
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "use-vault-file.yml").write_text(PLAYBOOK_WITH_VAULT_FILE)
    secrets = project / "secrets.yml"
    secrets.write_text(f"db_password: {VAULT_FILE_SECRET}\n")
    password_file = tmp_path / "vault-pass"
    password_file.write_text(VAULT_PASSWORD)
    vault = Path(sys.executable).parent / "ansible-vault"
    subprocess.run([str(vault), "encrypt", "--vault-password-file", str(password_file), str(secrets)], check=True)
    assert secrets.read_text().startswith("$ANSIBLE_VAULT")

    client = make_client(plugins={"ansible": ansible_settings | {"project_dirs": [str(project)]}})
    run = wait_run(client, client.post("/ansible/run", json={"playbook": "use-vault-file"}).json()["id"])
    assert run["status"] == "successful"
    events = client.get(f"/ansible/runs/{run['id']}/events?limit=1000").json()["items"]
    used = next(e for e in events if e["event"] == "runner_on_ok" and e["task"] == "Use it")
    assert used["data"]["res"]["stdout"] == "db=********"
    client.call(client.sim.relay.drain)
    shown = str(events) + client.get(f"/ansible/runs/{run['id']}/stdout").json()["stdout"]
    shown += str(client.get("/events?limit=1000").json())
    captured = capfd.readouterr()
    assert VAULT_FILE_SECRET not in shown + captured.out + captured.err
    store = b"".join(p.read_bytes() for p in client.sim.settings.data_dir.glob("dcsim.sqlite3*"))
    assert VAULT_FILE_SECRET.encode() not in store
