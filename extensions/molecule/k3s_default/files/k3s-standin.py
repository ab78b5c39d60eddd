#!/usr/bin/python3
"""STAND-IN for the k3s binary, used by molecule's k3s_default scenario only. It runs no Kubernetes: it
records each call's arguments in /var/lib/k3s-standin/calls.jsonl, reports the release it stands for, and
as a `server` or `agent` service tells systemd it is ready and idles. As a server it writes an admin kubeconfig
where K3s writes its own (0600, the API on loopback, a placeholder CA and no real credentials), so the role's
fetch has a file to fetch. Nothing built on it is proven."""

import json
import os
import socket
import sys
import time
from pathlib import Path

RELEASE = "v1.27.16+k3s1"
CALLS = Path("/var/lib/k3s-standin/calls.jsonl")
KUBECONFIG = Path("/etc/rancher/k3s/k3s.yaml")
# K3s's layout of the file, with stand-in values: nothing here authenticates to anything.
ADMIN = """apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: U1RBTkQtSU4=
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
preferences: {}
users:
- name: default
  user:
    client-certificate-data: U1RBTkQtSU4=
    client-key-data: U1RBTkQtSU4=
"""


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
    if sys.argv[1:2] == ["server"]:
        KUBECONFIG.touch(mode=0o600)
        KUBECONFIG.write_text(ADMIN)
    if sys.argv[1:2] in (["server"], ["agent"]):
        notify_ready()
        while True:
            time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
