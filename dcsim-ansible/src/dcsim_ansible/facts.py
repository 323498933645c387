"""Facts back to the CMDB: ``ansible.facts_collected`` recorded on the host's CI.

The facts go into the CI's attribute ``facts`` (with ``facts_collected_at``) through
the CMDB service, so the change is in the CI's history and ``cmdb.ci.updated`` says it.
Recording the same facts twice (a redelivery) changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from dcsim.errors import NotFound

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.model import Event

log = structlog.get_logger(__name__)


async def record_facts(dcsim: DcSim, event: Event) -> None:
    """Merge the facts of one host into its CI's attributes."""
    from dcsim.cmdb.service import Cmdb

    cmdb = dcsim.services.find(Cmdb)
    ci_id, facts = event.data.get("ci_id"), event.data.get("facts")
    if cmdb is None or not isinstance(ci_id, str) or not isinstance(facts, dict):
        return
    try:
        ci = await cmdb.backend.get_ci(ci_id)
    except NotFound:
        log.warning("ansible.facts_for_unknown_ci", ci_id=ci_id, run_id=event.data.get("run_id"))
        return
    if ci.attributes.get("facts") == facts:
        return
    attributes = {**ci.attributes, "facts": facts, "facts_collected_at": event.time.isoformat()}
    await cmdb.update_ci(ci_id, {"attributes": attributes}, f"ansible:run/{event.data.get('run_id')}")
