"""The event types dcsim-ansible declares (SPEC-013)."""

from __future__ import annotations

#: type -> (meaning, data fields and what they hold)
EVENT_TYPES: dict[str, tuple[str, dict[str, str]]] = {
    "ansible.run.requested": (
        "a run was asked for and waits for a worker",
        {"run_id": "the run", "playbook": "playbook name", "trigger": "api | event type", "correlation_id": "or null"},
    ),
    "ansible.run.started": (
        "a worker claimed a run and started ansible-playbook",
        {"run_id": "the run", "playbook": "playbook name", "worker": "worker name", "correlation_id": "or null"},
    ),
    "ansible.run.log": (
        "one task or host result of a running playbook, in the order ansible reported it",
        {
            "run_id": "the run",
            "seq": "position of the event in the run (1, 2, ...)",
            "event": "ansible-runner event name (runner_on_ok, playbook_on_task_start, ...)",
            "host": "inventory host or null",
            "task": "task name or null",
            "changed": "whether the result changed the host",
            "stdout": "the line ansible printed (secrets redacted)",
        },
    ),
    "ansible.run.completed": (
        "a run ended: successful, failed, canceled or timed out",
        {
            "run_id": "the run",
            "playbook": "playbook name",
            "status": "successful | failed | canceled | timeout",
            "rc": "ansible-playbook's exit code or null",
            "stats": "per host: ok, changed, failures, unreachable, skipped, rescued, ignored",
            "reason": "why it failed, or null",
            "trigger": "api | event type",
            "correlation_id": "the triggering event's correlation id, or null",
        },
    ),
    "ansible.facts_collected": (
        "a run reported facts of a host for the CMDB (dcsim_cmdb_facts)",
        {"run_id": "the run", "host": "inventory host", "ci_id": "the host's CI", "facts": "the facts"},
    ),
}
