"""cAdvisor's figures from cgroup files, v1 and v2: working set = usage minus inactive file cache, never
negative; no limit reads as 0; CPU in seconds."""

from pathlib import Path

import pytest

from lab import cgroups

STAT = "cache 1000\nrss 500\ntotal_inactive_file 300\ntotal_active_file 200\n"


@pytest.mark.parametrize(("stat", "usage", "expected"), [(STAT, 2000, 1700), (STAT, 100, 0), ("rss 5\n", 900, 900)])
def test_working_set(stat: str, usage: int, expected: int) -> None:
    assert cgroups.working_set(usage, stat) == expected


def _write(base: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (base / name).parent.mkdir(parents=True, exist_ok=True)
        (base / name).write_text(text)


def test_v1(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "memory/libpod_parent/c1/memory.usage_in_bytes": "2000\n",
            "memory/libpod_parent/c1/memory.limit_in_bytes": "67108864\n",
            "memory/libpod_parent/c1/memory.stat": STAT,
            "cpuacct/libpod_parent/c1/cpuacct.usage": "1500000000\n",
            "memory/libpod_parent/c2/memory.usage_in_bytes": "10\n",
            "memory/libpod_parent/c2/memory.limit_in_bytes": "9223372036854771712\n",
            "memory/libpod_parent/c2/memory.stat": "",
            "cpuacct/libpod_parent/c2/cpuacct.usage": "0\n",
        },
    )
    assert cgroups.read("/libpod_parent/c1", tmp_path) == cgroups.Usage(1700, 67108864, 1.5)
    assert cgroups.read("/libpod_parent/c2", tmp_path).limit_bytes == 0


def test_v2(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "cgroup.controllers": "cpu memory\n",
            "pod/c1/memory.current": "5000\n",
            "pod/c1/memory.max": "max\n",
            "pod/c1/memory.stat": "anon 100\ninactive_file 1000\n",
            "pod/c1/cpu.stat": "usage_usec 2500000\nuser_usec 1\n",
        },
    )
    assert cgroups.read("/pod/c1", tmp_path) == cgroups.Usage(4000, 0, 2.5)


def test_this_machines_own_cgroup_reads() -> None:
    """The reader works on this host's real hierarchy (its root cgroup)."""
    usage = cgroups.read("/")
    assert usage.working_set_bytes > 0
    assert usage.cpu_seconds > 0
