"""Where the services' CPU goes under the flash-sale mix (`make bench-profile`, needs the lab mesh).

Drives the 9pm journey mix through the edge with Locust at --rps for --seconds, and meanwhile records each
named pod's app process with py-spy from the host (the pid from podman). Only samples holding the GIL count
as busy (`--gil`): py-spy's idle detection reads thread states by thread id, and a container's ids are not the
host's, so without it every sleeping thread looks busy. Prints, per pod, the packages and the functions with
the largest share of the busy samples (inclusive: a frame counts once per sample it appears in), and keeps the raw stacks (.cache/bench/profile/<pod>.txt, flamegraph's collapsed format)
for a closer look. py-spy samples at --rate per second, so it takes a little of the cores it measures.

Traffic goes only to the lab's edge on loopback.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from benchmarks import load_capacity
from lab.mesh import EDGE_URL, state
from lab.podman import podman
from load import evidence, tenants
from load.settings import LoadSettings

ROOT = Path(__file__).resolve().parents[1]

OUT = ROOT / ".cache" / "bench" / "profile"
PY_SPY = Path(sys.executable).parent / "py-spy"


def inclusive_shares(collapsed: str, key: Callable[[str], str | None]) -> tuple[int, Counter[str]]:
    """(busy samples, samples per key) from py-spy's raw output; each key counted once per stack."""
    total, found = 0, Counter[str]()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        total += int(count)
        for name in {key(frame) for frame in stack.split(";")}:
            if name is not None:
                found[name] += int(count)
    return total, found


def package(frame: str) -> str | None:
    """The top-level package of a frame `function (path/to/module.py:line)`."""
    path = frame.rpartition("(")[2].split(":")[0]
    if "site-packages/" in path:
        return path.split("site-packages/")[1].split("/")[0].removesuffix(".py")
    if "/lib/python3" in path:
        return "stdlib:" + path.split("/lib/python3")[1].split("/")[1].removesuffix(".py")
    return path or None


def function(frame: str) -> str | None:
    name, _, where = frame.partition(" (")
    module = where.split(":")[0].rsplit("/", 2)[-2:]
    return f"{name} ({'/'.join(module)})"


def record(pod: str, seconds: float, rate: int) -> str:
    pid = podman("inspect", "--format", "{{.State.Pid}}", state.load().pod(pod).app_container)
    out = OUT / f"{pod}.txt"
    subprocess.run([str(PY_SPY), "record", "--pid", pid, "--duration", str(int(seconds)), "--rate", str(rate),
                    "--format", "raw", "--output", str(out), "--nonblocking", "--gil"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    return out.read_text()


def summary(pod: str, collapsed: str, top: int) -> str:
    total, packages = inclusive_shares(collapsed, package)
    _, functions = inclusive_shares(collapsed, function)
    lines = [f"{pod}: {total} busy samples"]
    lines += [f"  {n / max(total, 1):6.1%}  {name}" for name, n in packages.most_common(top)]
    lines += ["  functions:"] + [f"  {n / max(total, 1):6.1%}  {name}" for name, n in functions.most_common(top)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pods", nargs="+", help="lab pods whose app to profile, e.g. gateway-v1-0 order-v1-0")
    parser.add_argument("--rps", type=float, default=150, help="the flash-sale mix's rate through the edge")
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    catalogue = evidence.seed(f"profile{int(time.time())}", tenants.appids())
    settings = LoadSettings(start_hour=21, day_s=10**7)
    stacks: dict[str, str] = {}

    def spy() -> None:
        spies = [
            threading.Thread(target=lambda p=p: stacks.update({p: record(p, args.seconds, args.rate)}))
            for p in args.pods
        ]
        for thread in spies:
            thread.start()
        for thread in spies:
            thread.join()

    load_capacity.locust("MiniProgramUser", EDGE_URL, round(args.rps / settings.user_rps),
                         int(args.seconds) + load_capacity.SPAWN_S + 5, OUT / "locust",
                         load_capacity.lab_env(settings, catalogue), load_capacity.SPAWN_S, spy)  # fmt: skip
    for pod in args.pods:
        print(summary(pod, stacks[pod], args.top), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
