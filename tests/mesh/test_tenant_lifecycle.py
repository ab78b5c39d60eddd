"""Adding and removing a merchant's mini-program on the lab (issue 20, item 6): playbooks/tenant_add.yml and
tenant_remove.yml run against the lab's hosts (its etcd, its PostgreSQL cluster) as a site runs them, with the
tenant list given as the inventory's (extra vars standing for an edited services_tenants), and the mesh takes the
gateway's Secret up in place as the kubelet would (lab/playbooks/mesh.yml). Each playbook's rerun changes nothing.

The tests run in order: added and served; removed, its token refused and its rows archived; added again with new
keys (the old token still refused); removed again, its rows exported. What they leave (the archive schema, the
exports) is deleted at the end."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from conftest import INGRESS, ROOT

from load import evidence, tenants
from miniapp_services.clients.signed import SignedSession, login

APPID = "wx7e57c0de00000001"
NEW = {"appid": APPID, "name": "Lifecycle test merchant", "config": {"rate_limit_rps": 40}}
INVENTORY = ROOT / "inventories" / "lab"
EXPORTS = INVENTORY / "tenant-exports"
LISTED = yaml.safe_load((INVENTORY / "group_vars/all/services_tenants.yml").read_text())["services_tenants"]
RECAP = re.compile(r"^\S+\s*: ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0", re.MULTILINE)
SKU = "LC-TEA"


def _run(playbook: str, *extra: str) -> tuple[int, str]:
    """Run a playbook; the changed tasks over every host, and its output's words. Fails on a failed run."""
    done = subprocess.run(
        ["ansible-playbook", playbook, *extra], cwd=ROOT, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    recap = done.stdout[done.stdout.rindex("PLAY RECAP") :]
    # Words only: the YAML callback folds long messages across lines.
    return sum(int(n) for n in RECAP.findall(recap)), " ".join(done.stdout.split())


def _playbook(playbook: str, tenants_file: Path, *extra: str) -> tuple[int, str]:
    """Run it with this tenant list (standing for the inventory's)."""
    return _run(playbook, "-e", f"@{tenants_file}", *extra)


def _mesh() -> int:
    """The lab's apply (lab/playbooks/mesh.yml): its changed tasks (the mesh's pods' volumes updated counts one)."""
    return _run("lab/playbooks/mesh.yml")[0]


def _sql(statement: str) -> str:
    """psql as the superuser on the primary's socket (the lab's pg1 or pg2, whichever leads)."""
    listed = subprocess.run(
        ["podman", "exec", "pg1", "patronictl", "-c", "/etc/patroni/config.yml", "list", "--format", "json"],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    (primary,) = [m["Member"] for m in json.loads(listed.stdout) if m["Role"] == "Leader"]
    done = subprocess.run(
        ["podman", "exec", primary, "runuser", "-u", "postgres", "--", "psql", "-d", "miniapp", "-tAc", statement],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    return done.stdout.strip()


def _rows_of(appid: str) -> int:
    tables = [("user", "user"), ("checkin", "checkin"), ("product", "product"), ("inventory", "stock")]
    # Names and appids of this module's own, never a caller's: psql -c takes no parameters.
    counts = (f'(SELECT count(*) FROM "{s}"."{t}" WHERE tenant = \'{appid}\')' for s, t in tables)  # noqa: S608
    return int(_sql("SELECT " + " + ".join(counts)))


def _served(client: httpx.Client, session: SignedSession) -> int:
    """The status of a signed read as the gateway answers it once its tenants file has been re-read (1 s)."""
    time.sleep(1.5)
    return client.get(f"/api/products/{SKU}", auth=session).status_code


@pytest.fixture(scope="module")
def lists(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """The tenant list with the new merchant and without it, as extra-vars files; the lab restored after."""
    directory = tmp_path_factory.mktemp("tenants")
    found = {"with": directory / "with.yml", "without": directory / "without.yml"}
    found["with"].write_text(yaml.safe_dump({"services_tenants": [*LISTED, NEW]}))
    found["without"].write_text(yaml.safe_dump({"services_tenants": LISTED}))
    yield found
    subprocess.run(
        ["ansible-playbook", "playbooks/tenant_remove.yml", "-e", f"@{found['without']}", "-e", f"tenant={APPID}",
         "-e", "keep=archive"],
        cwd=ROOT, capture_output=True, check=False, timeout=900,
    )  # fmt: skip
    _sql(f'DROP SCHEMA IF EXISTS "archive_{APPID}" CASCADE')
    for member in ("pg1", "pg2"):
        subprocess.run(["podman", "exec", member, "sh", "-c", f"rm -rf /var/lib/miniapp/tenant-exports/{APPID}-*"])
    for exported in EXPORTS.glob(f"{APPID}-*"):
        shutil.rmtree(exported)
    _mesh()


@pytest.fixture(scope="module")
def first_session(lists: dict[str, Path]) -> SignedSession:
    """The merchant added and served: its session, after a check-in and a catalogue of its own."""
    changed, output = _playbook("playbooks/tenant_add.yml", lists["with"], "-e", f"tenant={APPID}")
    assert changed > 0
    assert f"new to this install: {APPID}" in output
    assert _playbook("playbooks/tenant_add.yml", lists["with"])[0] == 0
    assert _mesh() == 1  # the gateway's pods took the Secret up in place
    assert _mesh() == 0
    evidence.write_catalogue([APPID], {SKU: {"title": "Lifecycle tea", "price_cents": 300, "category": "e2e"}}, 5)
    with httpx.Client(base_url=INGRESS, timeout=10) as client:
        session = login(client, APPID, "code-lifecycle")
        assert client.post("/api/checkin", auth=session).status_code == 201
        assert client.get(f"/api/products/{SKU}", auth=session).status_code == 200
    return session


@pytest.mark.usefixtures("first_session")
def test_an_added_tenant_is_served_with_its_configuration() -> None:
    documents = subprocess.run(
        ["podman", "exec", "etcd1", "/usr/local/sbin/etcdctl-local", "get", f"/config/{APPID}/app.yaml",
         "--print-value-only"],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    assert json.loads(documents.stdout) == NEW["config"]
    assert _rows_of(APPID) == 4  # its user, check-in, product and stock


def test_a_removed_tenant_is_refused_and_its_rows_are_archived(
    first_session: SignedSession, lists: dict[str, Path]
) -> None:
    other = tenants.appids()[0]
    before = _rows_of(other)
    changed, output = _playbook(
        "playbooks/tenant_remove.yml", lists["without"], "-e", f"tenant={APPID}", "-e", "keep=archive"
    )
    assert changed > 0
    assert f"4 rows of {APPID} moved into the schema archive_{APPID}" in output
    assert _mesh() == 1
    with httpx.Client(base_url=INGRESS, timeout=10) as client:
        assert _served(client, first_session) == 401
        refused = client.post("/api/login", json={"appid": APPID, "code": "code-lifecycle"})
        assert (refused.status_code, refused.json()["detail"]["reason"]) == (401, "unknown_tenant")
    assert _rows_of(APPID) == 0
    assert _rows_of(other) == before
    assert _sql(f'SELECT count(*) FROM "archive_{APPID}".user__user') == "1"  # noqa: S608
    assert _sql(f"SELECT has_schema_privilege('user', 'archive_{APPID}', 'USAGE')") == "f"
    assert not list((INVENTORY / ".secrets").glob(f"tenant-{APPID}-*"))
    again, output = _playbook(
        "playbooks/tenant_remove.yml", lists["without"], "-e", f"tenant={APPID}", "-e", "keep=archive"
    )
    assert again == 0
    assert f"an earlier run kept them in archive_{APPID}" in output


def test_added_again_it_gets_new_keys_and_removed_with_export_its_rows_are_files(
    first_session: SignedSession, lists: dict[str, Path]
) -> None:
    _playbook("playbooks/tenant_add.yml", lists["with"], "-e", f"tenant={APPID}")
    _mesh()
    evidence.write_catalogue([APPID], {SKU: {"title": "Lifecycle tea", "price_cents": 300, "category": "e2e"}}, 5)
    with httpx.Client(base_url=INGRESS, timeout=10) as client:
        assert _served(client, first_session) == 401  # the first session's key died with the tenant
        session = login(client, APPID, "code-lifecycle")
        assert client.post("/api/checkin", auth=session).status_code == 201
    changed, output = _playbook(
        "playbooks/tenant_remove.yml", lists["without"], "-e", f"tenant={APPID}", "-e", "keep=export"
    )
    assert changed > 0
    assert f"4 rows of {APPID} exported" in output
    (exported,) = EXPORTS.glob(f"{APPID}-*")
    sums = dict(line.split("  ")[::-1] for line in (exported / "SHA256SUMS").read_text().splitlines())
    for name, digest in sums.items():
        assert hashlib.sha256((exported / name).read_bytes()).hexdigest() == digest
    users = list(csv.DictReader(io.StringIO((exported / "user.user.csv").read_text())))
    assert [u["tenant"] for u in users] == [APPID]
    assert json.loads((exported / "manifest.json").read_text())["rows"]["checkin.checkin"] == 1
    assert _rows_of(APPID) == 0
    again, output = _playbook(
        "playbooks/tenant_remove.yml", lists["without"], "-e", f"tenant={APPID}", "-e", "keep=export"
    )
    assert again == 0
    assert "an earlier run kept them in /var/lib/miniapp/tenant-exports/" in output
