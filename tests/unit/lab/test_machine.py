"""The machine's CPU from /proc/stat: busy, stolen and all time apart, and the load between two readings."""

from pathlib import Path

import pytest

from lab import machine

# user nice system idle iowait irq softirq steal guest guest_nice, in ticks of 1/100 s
BEFORE = "cpu  1000 0 200 5000 100 0 0 100 50 0\ncpu0 500 0 100 2500 50 0 0 50 25 0\n"
AFTER = "cpu  1150 0 250 5100 100 0 0 200 80 0\ncpu0 575 0 125 2550 50 0 0 100 40 0\n"


def test_busy_excludes_idle_iowait_and_steal_and_guest_is_not_counted_twice() -> None:
    times = machine.parse(BEFORE, 100)
    assert times == machine.CpuTimes(busy_s=12.0, steal_s=1.0, total_s=64.0)


def test_the_load_between_two_readings() -> None:
    # 2 s on 2 cores: 4 s of CPU time, 2 of them busy and 1 stolen.
    load = machine.parse(AFTER, 100).since(machine.parse(BEFORE, 100), elapsed_s=2.0)
    assert load.busy_cores == pytest.approx(1.0)
    assert load.steal_share == pytest.approx(0.25)
    assert load.describe(2) == "1.00 of 2 cores busy, 25.0% stolen by the hypervisor"


def test_no_time_passed_is_no_load() -> None:
    times = machine.parse(BEFORE, 100)
    assert times.since(times, elapsed_s=0.0) == machine.MachineLoad(busy_cores=0.0, steal_share=0.0)


def test_another_file_is_refused_naming_what_it_found(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    stat.write_text("intr 1 2 3\n")
    with pytest.raises(ValueError, match="not /proc/stat's aggregate cpu line: \\['intr'"):
        machine.cpu_times(stat)


def test_this_machine_reads() -> None:
    times = machine.cpu_times()
    assert 0 < times.busy_s < times.total_s
