"""``GET /sim/vms/{vm}/metrics`` and ``GET /sim/hosts/{host}/metrics``: the recent time
buckets of one object's simulated series (``dcsim.sim.metrics_history``), for a
sparkline without a Prometheus."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated

import attrs
import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from dcsim.app import DcSim
from dcsim.sim.metrics import BUCKET_SECONDS
from dcsim.sim.metrics_history import MAX_BUCKETS, MetricsHistory
from dcsim.sim.routes import fresh_world
from dcsim.web.contracts import responses

#: ``?buckets=``: how many of the most recent buckets, the current one last.
BucketsQuery = Annotated[
    int,
    QueryParameter(
        ge=1,
        le=MAX_BUCKETS,
        description=f"How many {BUCKET_SECONDS} s buckets, the current one last: 1..{MAX_BUCKETS}",
    ),
]

Fraction = Annotated[float, msgspec.Meta(ge=0, le=1)]
BucketStart = Annotated[datetime, msgspec.Meta(description="Start of the time bucket (UTC)")]
BytesPerSecond = Annotated[float, msgspec.Meta(ge=0, description="Bytes per second")]
BucketSeconds = Annotated[int, msgspec.Meta(description="Seconds a value holds still", examples=[BUCKET_SECONDS])]
Points = "Oldest first; the last is the current bucket, the figures /metrics shows now"


class VmMetricsPoint(msgspec.Struct, kw_only=True):
    """A VM's figures in one time bucket (``dcsim_vm_*`` of ``/metrics``)."""

    at: BucketStart
    cpu_usage: Annotated[Fraction, msgspec.Meta(description="CPU in use, a fraction of the VM's vCPUs")]
    memory_usage: Annotated[Fraction, msgspec.Meta(description="Memory in use, a fraction of the VM's memory")]
    disk_io: BytesPerSecond
    net_io: BytesPerSecond


class VmMetrics(msgspec.Struct, kw_only=True):
    """A VM's recent simulated figures, one point per time bucket."""

    id: str
    name: str
    bucket_seconds: BucketSeconds
    points: Annotated[list[VmMetricsPoint], msgspec.Meta(description=Points)]


class HostMetricsPoint(msgspec.Struct, kw_only=True):
    """A host's figures in one time bucket."""

    at: BucketStart
    power: Annotated[float, msgspec.Meta(ge=0, le=1, description="1 when on, 0 when off or failed")]
    temperature: Annotated[float, msgspec.Meta(description="Inlet temperature, Celsius (dcsim_host_temperature)")]
    cpu_usage: Annotated[
        Fraction, msgspec.Meta(description="sum(CPU usage x vCPUs) of its powered-on VMs / its cores, at most 1")
    ]
    memory_usage: Annotated[
        Fraction, msgspec.Meta(description="sum(memory usage x memory) of its powered-on VMs / its memory, at most 1")
    ]


class HostMetrics(msgspec.Struct, kw_only=True):
    """A host's recent simulated figures, one point per time bucket."""

    id: str
    name: str
    bucket_seconds: BucketSeconds
    points: Annotated[list[HostMetricsPoint], msgspec.Meta(description=Points)]


class MetricsHistoryController(Controller):
    """Recent simulated metrics of one VM or host, derived on demand (nothing is stored)."""

    path = "/sim"
    tags = ["sim"]
    before_request = fresh_world  # type: ignore[assignment]  # litestar unbinds it

    @get(
        "/vms/{vm:str}/metrics",
        summary="A VM's recent simulated metrics, one point per 15 s bucket",
        description=(
            "Past buckets are derived from the VM as it is now (power, size, load profile, faults):"
            " the simulation keeps no history of those."
        ),
        responses=responses(404),
    )
    async def vm_metrics(
        self, dcsim: NamedDependency[DcSim], vm: FromPath[str], buckets: BucketsQuery = 40
    ) -> VmMetrics:
        found, samples = MetricsHistory(dcsim.sim, dcsim.settings.sim_seed).vm(vm, buckets, time.time())
        points = [VmMetricsPoint(**attrs.asdict(sample, recurse=False)) for sample in samples]
        return VmMetrics(id=found.id, name=found.name, bucket_seconds=BUCKET_SECONDS, points=points)

    @get(
        "/hosts/{host:str}/metrics",
        summary="A host's recent simulated metrics, one point per 15 s bucket",
        description=(
            "Past buckets are derived from the host and its VMs as they are now: the simulation keeps no history."
        ),
        responses=responses(404),
    )
    async def host_metrics(
        self, dcsim: NamedDependency[DcSim], host: FromPath[str], buckets: BucketsQuery = 40
    ) -> HostMetrics:
        found, samples = MetricsHistory(dcsim.sim, dcsim.settings.sim_seed).host(host, buckets, time.time())
        points = [HostMetricsPoint(**attrs.asdict(sample, recurse=False)) for sample in samples]
        return HostMetrics(id=found.id, name=found.name, bucket_seconds=BUCKET_SECONDS, points=points)
