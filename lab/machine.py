"""The machine's CPU as /proc/stat counts it, all cores together: what a run's latencies are read against.

The lab's 2 cores are a VM's. Its figures vary from one VM to the next and with the host's other guests
(steal: time this VM was ready to run and the hypervisor ran another), so a report that judges latency says
how busy the machine was and how much was stolen.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

STAT = Path("/proc/stat")


@dataclass(frozen=True)
class CpuTimes:
    """Seconds since boot, summed over cores: busy (any work of this VM), stolen, and all of them."""

    busy_s: float
    steal_s: float
    total_s: float

    def since(self, earlier: CpuTimes, elapsed_s: float) -> MachineLoad:
        spent = self.total_s - earlier.total_s
        return MachineLoad(
            busy_cores=(self.busy_s - earlier.busy_s) / elapsed_s if elapsed_s > 0 else 0.0,
            steal_share=(self.steal_s - earlier.steal_s) / spent if spent > 0 else 0.0,
        )


@dataclass(frozen=True)
class MachineLoad:
    busy_cores: float  # cores this VM kept busy, on average
    steal_share: float  # of all its cores' time, the share the hypervisor gave to others

    def describe(self, cores: int | None = None) -> str:
        of = f" of {cores}" if cores else ""
        return f"{self.busy_cores:.2f}{of} cores busy, {self.steal_share:.1%} stolen by the hypervisor"


def parse(text: str, ticks_per_s: int) -> CpuTimes:
    """The aggregate `cpu` line: user nice system idle iowait irq softirq steal (guest time is in user already)."""
    head = text.split("\n", 1)[0].split()
    if not head or head[0] != "cpu" or len(head) < 9:
        raise ValueError(f"not /proc/stat's aggregate cpu line: {head[:3]}")
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in head[1:9])
    return CpuTimes(
        busy_s=(user + nice + system + irq + softirq) / ticks_per_s,
        steal_s=steal / ticks_per_s,
        total_s=(user + nice + system + idle + iowait + irq + softirq + steal) / ticks_per_s,
    )


def cpu_times(stat: Path = STAT) -> CpuTimes:
    return parse(stat.read_text(), os.sysconf("SC_CLK_TCK"))
