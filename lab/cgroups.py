"""A container's memory and CPU as the kubelet's cAdvisor reports them, read from its cgroup (v1 or v2).

Standard library only: the cAdvisor stand-in runs it inside a container with the host's cgroups mounted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
# cgroup v1 reports "no limit" as the largest page-aligned 64-bit value; cAdvisor reports it as 0.
_V1_UNLIMITED = 1 << 62


@dataclass(frozen=True)
class Usage:
    working_set_bytes: int
    limit_bytes: int  # 0: no limit
    cpu_seconds: float


def _stat(text: str) -> dict[str, int]:
    return {key: int(value) for key, value in (line.split() for line in text.splitlines() if line)}


def working_set(usage_bytes: int, memory_stat: str, inactive_key: str = "total_inactive_file") -> int:
    """Usage minus inactive page cache, floored at 0 (cAdvisor's working set)."""
    return max(usage_bytes - _stat(memory_stat).get(inactive_key, 0), 0)


def _v2(path: Path) -> Usage:
    limit = (path / "memory.max").read_text().strip()
    usage = int((path / "memory.current").read_text())
    return Usage(
        working_set(usage, (path / "memory.stat").read_text(), "inactive_file"),
        0 if limit == "max" else int(limit),
        _stat((path / "cpu.stat").read_text()).get("usage_usec", 0) / 1e6,
    )


def _v1(root: Path, cgroup: str) -> Usage:
    memory = root / "memory" / cgroup
    limit = int((memory / "memory.limit_in_bytes").read_text())
    usage = int((memory / "memory.usage_in_bytes").read_text())
    return Usage(
        working_set(usage, (memory / "memory.stat").read_text()),
        0 if limit >= _V1_UNLIMITED else limit,
        cpu_seconds(cgroup, root),
    )


def read(cgroup: str, root: Path = ROOT) -> Usage:
    """The usage of the cgroup at this path (as `podman inspect` gives it: /libpod_parent/...)."""
    relative = cgroup.lstrip("/")
    if (root / "cgroup.controllers").exists():
        return _v2(root / relative)
    return _v1(root, relative)


def cpu_seconds(cgroup: str, root: Path = ROOT) -> float:
    """CPU time the cgroup at this path has used, children included (cpuacct on v1, cpu.stat on v2)."""
    relative = cgroup.lstrip("/")
    if (root / "cgroup.controllers").exists():
        return _stat((root / relative / "cpu.stat").read_text()).get("usage_usec", 0) / 1e6
    return int((root / "cpuacct" / relative / "cpuacct.usage").read_text()) / 1e9
