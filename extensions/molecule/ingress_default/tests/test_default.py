"""The ingress role on the controller: objects valid and in front of the gateway, the API domain's key
private, its certificate for that domain, neither in a rendered file. NGINX itself does not run here."""

import json
import os
import subprocess
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID

ROOT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
INVENTORY = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "inventory"
RENDERED = INVENTORY / "rendered" / "ingress" / "ingress.yml"
DOMAIN = "api.miniapp.example.com"
KEY, CERT = (INVENTORY / ".secrets" / f"ingress-{DOMAIN}.{ext}" for ext in ("key", "crt"))


def _objects() -> list[dict]:
    return [o for o in yaml.safe_load_all(RENDERED.read_text()) if o]


def test_objects_are_valid_against_the_published_schemas() -> None:
    done = subprocess.run(
        ["node", ROOT / "tools/schemas/validate.mjs"], input=json.dumps(_objects()), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_api_domain_goes_to_the_gateway_over_tls() -> None:
    (ingress,) = [o for o in _objects() if o["kind"] == "Ingress"]
    assert ingress["spec"]["tls"] == [{"hosts": [DOMAIN], "secretName": "miniapp-api-tls"}]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert (ingress["metadata"]["namespace"], backend) == ("miniapp", {"name": "gateway", "port": {"number": 8080}})


def test_the_key_is_private_and_the_certificate_names_the_domain() -> None:
    assert oct(KEY.stat().st_mode & 0o777) == "0o600"
    assert oct(KEY.parent.stat().st_mode & 0o777) == "0o700"
    cert = x509.load_pem_x509_certificate(CERT.read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == DOMAIN
    assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName
    ) == [DOMAIN]


def test_no_key_material_in_the_rendered_objects() -> None:
    rendered = RENDERED.read_text()
    assert "PRIVATE KEY" not in rendered
    assert "kind: Secret" not in rendered
