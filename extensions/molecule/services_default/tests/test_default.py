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


def _objects() -> list[dict]:
    return [o for o in yaml.safe_load_all(RENDERED.read_text()) if o]


def test_every_object_written_once_in_apply_order() -> None:
    objects = _objects()
    assert len(objects) == 112  # 106 for the services, 6 for the nonces store
    assert objects[0]["kind"] == "Namespace"
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
    assert len(passwords) == 14  # 12 database passwords, the gateway's session secret, the nonces store's password
    assert len(set(passwords)) == 14
    rendered = RENDERED.read_text()
    assert not any(pw in rendered for pw in passwords)
    assert "kind: Secret" not in rendered
    # The Secrets themselves are kept beside the passwords, private, for a backend that does not apply them.
    assert oct(kept.stat().st_mode & 0o777) == "0o600"
    secrets = kept.read_text()
    assert all(pw in secrets for pw in passwords)
