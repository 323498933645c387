"""Facts back to the CMDB: ``ansible.facts_collected`` recorded on the host's CI.

The facts go into the CI's attribute ``facts`` (with ``facts_collected_at``) through
the CMDB service, so the change is in the CI's history and ``cmdb.ci.updated`` says it.
Recording the same facts twice (a redelivery) changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from dcsim.errors import NotFound, PreconditionFailed
from dcsim.etag import etag_of

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


async def keep_facts_through_sync(dcsim: DcSim, event: Event) -> None:
    """Put the facts back on a CI whose attributes a sync from the simulation replaced.

    Sync owns the attributes the simulation maps and writes them whole; the facts are
    the runner's, so when a ``cmdb.ci.updated`` by sync dropped them, they are merged
    into the new attributes again (the change and its actor are in the CI's history).
    """
    from dcsim.cmdb.service import SYNC_ACTOR, Cmdb

    cmdb = dcsim.services.find(Cmdb)
    change = (event.data.get("changes") or {}).get("attributes")
    if cmdb is None or event.data.get("actor") != SYNC_ACTOR or not isinstance(change, list) or len(change) != 2:
        return
    before, after = change
    if not isinstance(before, dict) or not isinstance(after, dict) or "facts" not in before or "facts" in after:
        return
    ci_id = (event.data.get("ci") or {}).get("id")
    if not isinstance(ci_id, str):
        return
    kept = {key: before[key] for key in ("facts", "facts_collected_at") if key in before}
    for _ in range(3):
        try:
            ci = await cmdb.backend.get_ci(ci_id)
            if "facts" in ci.attributes:
                return
            # If-Match: a sync between the read and the write is not overwritten.
            attributes = {**ci.attributes, **kept}
            await cmdb.update_ci(ci_id, {"attributes": attributes}, "ansible:facts", if_match=etag_of(ci))
            return
        except PreconditionFailed:
            continue
        except NotFound:
            return
