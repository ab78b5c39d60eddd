"""The services role on the controller: every object written once in apply order, schema-valid, secrets kept apart."""

import json
import os
import subprocess
from pathlib import Path

import yaml

ROOT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
INVENTORY = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "inventory"
RENDERED = INVENTORY / "rendered" / "services" / "services.yml"
SECRETS = INVENTORY / ".secrets"
NAMES = {
    t["appid"]: t["name"]
    for t in yaml.safe_load((ROOT / "inventories/lab/group_vars/all/services_tenants.yml").read_text())[
        "services_tenants"
    ]
}
TENANTS = list(NAMES)


def _objects() -> list[dict]:
    return [o for o in yaml.safe_load_all(RENDERED.read_text()) if o]


def test_every_object_written_once_in_apply_order() -> None:
    objects = _objects()
    assert len(objects) == 114  # 106 for the services, 6 for the nonces store, the database's 2 ServiceEntries
    assert objects[0]["kind"] == "Namespace"
    entries = {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in objects if o["kind"] == "ServiceEntry"}
    assert entries == {("miniapp", "database"), ("trade", "database")}  # no etcd group here: no config centre
    assert sum(o["kind"] == "Deployment" for o in objects) == 14


def test_objects_are_valid_against_the_published_schemas() -> None:
    done = subprocess.run(
        ["node", ROOT / "tools/schemas/validate.mjs"],
        input=json.dumps(_objects()),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_secrets_are_per_install_private_and_not_in_the_rendered_files() -> None:
    assert oct(SECRETS.stat().st_mode & 0o777) == "0o700"
    kept = SECRETS / "secrets.json"
    passwords = [p.read_text().split()[0] for p in SECRETS.iterdir() if p != kept]
    # 12 database passwords, the nonces store's password, a session key and a platform secret per tenant
    assert len(passwords) == 13 + 2 * len(TENANTS)
    assert len(set(passwords)) == len(passwords)
    rendered = RENDERED.read_text()
    assert not any(pw in rendered for pw in passwords)
    assert "kind: Secret" not in rendered
    # The Secrets themselves are kept beside the passwords, private, for a backend that does not apply them.
    assert oct(kept.stat().st_mode & 0o777) == "0o600"
    secrets = kept.read_text()
    assert all(pw in secrets for pw in passwords)


def test_the_gateway_gets_every_tenants_name_and_two_keys_and_nothing_else() -> None:
    kept = json.loads((SECRETS / "secrets.json").read_text())
    (secret,) = [s for s in kept if s["metadata"]["name"] == "gateway-tenants"]
    document = json.loads(secret["stringData"]["tenants.json"])
    assert sorted(document) == sorted(TENANTS)
    for appid, keys in document.items():
        assert sorted(keys) == ["name", "platform_secret", "session_key"]
        assert keys["name"] == NAMES[appid]
        assert keys["session_key"] == (SECRETS / f"tenant-{appid}-session").read_text().split()[0]
        assert keys["platform_secret"] == (SECRETS / f"tenant-{appid}-platform").read_text().split()[0]
