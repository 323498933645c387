"""The sync's baseline: which field the reconciler writes (``settle``) and which of its
records survive a follower's newer observation (``Agreement.merge``)."""

from __future__ import annotations

import attrs

from dcsim_vmware.agreement import Agreement
from dcsim_vmware.desired import VmSpec
from dcsim_vmware.inventory import Settled, settle

SPEC = VmSpec(
    id="vm-1",
    name="web",
    host="esxi-01",
    cpu=2,
    memory_mb=4096,
    power="poweredOn",
    guest_id="rhel9_64Guest",
    datastore="ds-01",
    nics=(),
    disk_gb=1,
    snapshots=(),
    pool=None,
)


def test_settle_writes_only_what_the_simulation_changed_and_vcenter_did_not() -> None:
    # The simulation renamed it, vCenter still shows the agreed name: write.
    assert settle("web", "web-2", "web", True) == Settled(True, "web-2")
    # vCenter renamed it, the simulation still has the agreed name: vCenter's news, no write.
    assert settle("web-2", "web", "web", True) == Settled(False, "web")
    # Both changed it: vCenter's news wins (the watcher brings it), nothing written back.
    assert settle("client", "sim", "web", True) == Settled(False, "web")
    # Already equal, or never agreed.
    assert settle("web", "web", "old", True) == Settled(False, "web")
    assert settle("web", "web-2", "web-2", False) == Settled(True, "web-2")


def test_merge_keeps_the_followers_newer_record() -> None:
    agreement = Agreement()
    agreement.observe(SPEC)
    baseline = agreement.snapshot()
    # The follower records vCenter's rename while the reconciler works on the baseline.
    renamed = attrs.evolve(SPEC, name="web-2")
    agreement.observe(renamed)
    assert agreement.merge(baseline, {"vm-1": attrs.evolve(SPEC, cpu=4)}) == ["vm-1"]
    assert agreement.get("vm-1") == renamed
    assert baseline.last["vm-1"] == SPEC  # the baseline stays as it was taken


def test_merge_records_what_the_reconciler_agreed_and_forgets_destroyed_vms() -> None:
    agreement = Agreement()
    agreement.observe(SPEC)
    baseline = agreement.snapshot()
    bigger = attrs.evolve(SPEC, cpu=4)
    assert agreement.merge(baseline, {"vm-1": bigger}) == []
    assert agreement.get("vm-1") == bigger
    assert agreement.merge(agreement.snapshot(), {"vm-1": None}) == []
    assert agreement.get("vm-1") is None


def test_a_reseed_drops_what_older_syncs_agreed() -> None:
    agreement = Agreement()
    baseline = agreement.snapshot()
    agreement.clear()
    assert agreement.merge(baseline, {"vm-1": SPEC}) == ["vm-1"]
    assert agreement.get("vm-1") is None
