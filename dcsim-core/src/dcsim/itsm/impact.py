"""ITSM's link to the CMDB: checking affected CIs, impact snapshots, finding a CI.

ITSM reaches the CMDB only through the CMDB service's public contract (its backend's
reads and ``Cmdb.impact``), looked up on each use, so ITSM works without it: with the
CMDB plugin disabled, affected CIs are kept as given (unchecked), every impact snapshot
says the CMDB is not available, and rules that look a CI up find none.
"""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING

from dcsim.cmdb.backend import CiQuery
from dcsim.errors import InvalidInput, NotFound
from dcsim.itsm.model import ImpactAnalysis, ImpactedCi

if TYPE_CHECKING:
    from dcsim.cmdb.model import Ci
    from dcsim.cmdb.service import Cmdb
    from dcsim.itsm.service import Itsm

#: How deep the CMDB impact analysis attached to records goes.
IMPACT_DEPTH = 3
#: The ``detail`` of a snapshot taken without a CMDB.
CMDB_UNAVAILABLE = "the CMDB is not available (its plugin is disabled): affected CIs are unchecked and not analysed"


class CmdbLink:
    """What ITSM asks the CMDB, degrading to "not available" when there is none."""

    def __init__(self, itsm: Itsm) -> None:
        self._itsm = itsm

    @property
    def cmdb(self) -> Cmdb | None:
        """The instance's CMDB service, or None when no plugin provides one."""
        from dcsim.cmdb.service import Cmdb  # here: ITSM imports without the CMDB

        return self._itsm.dcsim.services.find(Cmdb)

    async def check_cis(self, ci_ids: list[str]) -> list[str]:
        """``ci_ids`` without repeats; InvalidInput naming the ids the CMDB does not know."""
        unique = list(dict.fromkeys(ci_ids))
        cmdb = self.cmdb
        if cmdb is None:
            return unique
        unknown = []
        for ci_id in unique:
            try:
                await cmdb.backend.get_ci(ci_id)
            except NotFound:
                unknown.append(ci_id)
        if unknown:
            raise InvalidInput(f"no CI with id {', '.join(unknown)}", unknown_cis=unknown)
        return unique

    async def analyse(self, ci_ids: list[str]) -> ImpactAnalysis | None:
        """The CMDB impact of ``ci_ids`` together; each CI once, at its shortest depth."""
        if not ci_ids:
            return None
        cmdb = self.cmdb
        if cmdb is None:
            return ImpactAnalysis(
                computed_at=self._itsm.clock(),
                depth=0,
                affected=[],
                upstream=[],
                downstream=[],
                cmdb_available=False,
                detail=CMDB_UNAVAILABLE,
            )
        affected = []
        found: dict[str, dict[str, ImpactedCi]] = {"upstream": {}, "downstream": {}}
        for ci_id in ci_ids:
            ci = await cmdb.backend.get_ci(ci_id)
            affected.append(ImpactedCi(id=ci.id, type=ci.type, name=ci.name, depth=0))
            report = await cmdb.impact(ci_id, IMPACT_DEPTH)
            for direction, seen in found.items():
                for item in report[direction]:
                    known = seen.get(item["id"])
                    if item["id"] not in ci_ids and (known is None or item["depth"] < known.depth):
                        seen[item["id"]] = ImpactedCi(
                            id=item["id"], type=item["type"], name=item["name"], depth=item["depth"]
                        )
        ordered = {
            direction: sorted(seen.values(), key=lambda c: (c.depth, c.type, c.name))
            for direction, seen in found.items()
        }
        return ImpactAnalysis(
            computed_at=self._itsm.clock(),
            depth=IMPACT_DEPTH,
            affected=affected,
            upstream=ordered["upstream"],
            downstream=ordered["downstream"],
        )

    async def find_ci(self, ref: str) -> Ci | None:
        """The CI ``ref`` names: a CI id, a simulated object id, or an active CI's exact
        name; None when nothing matches or there is no CMDB."""
        cmdb = self.cmdb
        if cmdb is None:
            return None
        backend = cmdb.backend
        with suppress(NotFound):
            return await backend.get_ci(ref)
        ci = await backend.find_by_source(ref)
        if ci is not None:
            return ci
        _, candidates = await backend.list_cis(CiQuery(q=ref, limit=1000))
        return next((candidate for candidate in candidates if candidate.name == ref), None)
