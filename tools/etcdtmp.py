"""A throwaway one-member etcd on loopback, from the offline bundle's etcd 3.4 (the lab's own build), for the
registry tests and benchmark."""

from __future__ import annotations

import contextlib
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tools.pgtmp import free_port

ROOT = Path(__file__).resolve().parents[1]


def binary(into: Path) -> Path:
    """etcd from the bundle (make bundle) or the lab bundle (make lab-bundle)."""
    for bundle in (ROOT / "bundle", ROOT / ".cache" / "bundle"):
        for tarball in sorted(bundle.glob("etcd-v3.4.*-linux-amd64.tar.gz")):
            with tarfile.open(tarball) as tar:
                tar.extractall(into, filter="data")
            return next(into.glob("etcd-*/etcd"))
    raise FileNotFoundError("no etcd in the bundle: run `make bundle` (or `make lab-bundle`) first")


@contextlib.contextmanager
def etcd() -> Iterator[str]:
    """Start etcd; yield its client URL; stop it and delete its data after."""
    with tempfile.TemporaryDirectory(prefix="miniapp-etcd-") as tmp:
        client, peer = free_port(), free_port()
        url, peer_url = f"http://127.0.0.1:{client}", f"http://127.0.0.1:{peer}"
        args = [
            str(binary(Path(tmp))), "--data-dir", f"{tmp}/data", "--listen-client-urls", url, "--advertise-client-urls", url,
            "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
            "--initial-cluster", f"default={peer_url}",
        ]  # fmt: skip
        with subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as server:  # noqa: S603
            try:
                deadline = time.monotonic() + 30
                while True:
                    with contextlib.suppress(httpx.TransportError):
                        if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                            break
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("etcd did not start")
                    time.sleep(0.1)
                yield url
            finally:
                server.terminate()
                server.wait(timeout=10)
