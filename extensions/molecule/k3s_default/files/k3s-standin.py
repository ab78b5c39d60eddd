#!/usr/bin/python3
"""STAND-IN for the k3s binary, used by molecule's k3s_default scenario only. It runs no Kubernetes: it
records each call's arguments in /var/lib/k3s-standin/calls.jsonl, reports the release it stands for, and
as a `server` or `agent` service tells systemd it is ready and idles. Nothing built on it is proven."""

import json
import os
import socket
import sys
import time
from pathlib import Path

RELEASE = "v1.27.16+k3s1"
CALLS = Path("/var/lib/k3s-standin/calls.jsonl")


def notify_ready() -> None:
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect("\0" + address[1:] if address.startswith("@") else address)
        sock.send(b"READY=1")


def main() -> int:
    if sys.argv[1:] == ["--version"]:
        print(f"k3s version {RELEASE} (stand-in)\ngo version none")
        return 0
    CALLS.parent.mkdir(parents=True, exist_ok=True)
    with CALLS.open("a") as calls:
        calls.write(json.dumps(sys.argv[1:]) + "\n")
    if sys.argv[1:2] in (["server"], ["agent"]):
        notify_ready()
        while True:
            time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
