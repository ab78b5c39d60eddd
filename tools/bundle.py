"""Build, lock and verify the offline bundle.

  python tools/bundle.py lock                 record missing checksums (trust on first use, printed)
  python tools/bundle.py build OUT [NAME@VERSION ...]   fetch, verify, write manifest, SBOM, signature, tarball
  python tools/bundle.py verify DIR --signer SHA256
                                             check signature (against the pinned signer), manifest and every file
  python tools/bundle.py verify DIR --trust-on-first-use
                                             the same against the key the bundle carries; prints it to pin

Artifacts come from the table in roles/offline_bundle/vars/main.yml: https sources are downloaded
(with a progress bar, verified against the table), ``image:`` sources are copied by the digest the table
pins (tools/bundle_registry.py), ``lab:`` sources are built here from Debian packages or wheels
(lab/bundle/recipes.py), ``build:`` sources are this repository's own images
(tools/bundle_image.py). Checksums are never fetched from where the artifact comes from.
"""

import argparse
import json
import sys
import tarfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from ansible_collections.miniapp.mesh.plugins.module_utils import bundle
from lab.bundle import recipes
from tools import bundle_image, bundle_registry, bundle_sign
from tools.bundle_download import DownloadError, download

ROOT = Path(__file__).resolve().parents[1]

TABLE = ROOT / "roles" / "offline_bundle" / "vars" / "main.yml"
CACHE = ROOT / ".cache" / "downloads"
SIGNING_KEY = ROOT / ".cache" / "bundle-signing" / "signing.key"
MANIFEST, SBOM, SIGNATURE, PUBLIC_KEY = bundle.MANIFEST, bundle.SBOM, bundle.SIGNATURE, bundle.PUBLIC_KEY


def sha256(path: Path) -> str:
    return bundle.sha256_file(str(path))


def table_entries(table_path: Path) -> list[tuple[str, dict[str, Any]]]:
    table = yaml.safe_load(table_path.read_text())["_offline_bundle_table"]
    return [(name, entry) for name, entries in table.items() for entry in entries]


def obtain(name: str, entry: dict[str, Any], out_dir: Path) -> Path:
    """Put the artifact in out_dir, from the download cache, the network or the lab builder."""
    target = out_dir / str(entry["file"])
    if bundle_image.is_built(entry):
        return bundle_image.save(entry, out_dir)
    if bundle_registry.is_image(entry):
        return bundle_registry.fetch(entry, out_dir)
    if entry["source"].startswith("lab:"):
        recipes.build(name, entry, out_dir)
        return target
    cached = CACHE / entry["file"]
    if not cached.exists() or sha256(cached) != entry["sha256"]:
        download(entry["source"], cached, entry["sha256"])
    target.write_bytes(cached.read_bytes())
    return target


def cmd_lock(args: argparse.Namespace) -> int:
    text = args.table.read_text()
    for name, entry in table_entries(args.table):
        if entry["sha256"] is not None or not entry["source"].startswith(("https://", bundle_registry.PREFIX)):
            continue
        if bundle_registry.is_image(entry):
            digest, what = bundle_registry.resolve_digest(entry), "image digest"
        else:
            digest, what = sha256(download(entry["source"], CACHE / entry["file"], None)), "sha256"
        print(
            f"TRUST ON FIRST USE {name} {entry['version']}: {entry['file']} {what} {digest}\n"
            f"  from {entry['source']}; compare it with the publisher's signed checksums before shipping"
        )
        text = bundle.lock_checksum(text, entry["file"], digest)
    args.table.write_text(text)
    return 0


def selected(entries: list[tuple[str, dict[str, Any]]], wanted: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """Entries named NAME@VERSION in wanted (all locked entries when empty); unknown names are an error."""
    if not wanted:
        return [(n, e) for n, e in entries if e["sha256"] is not None]
    chosen = [(n, e) for n, e in entries if f"{n}@{e['version']}" in wanted]
    unknown = set(wanted) - {f"{n}@{e['version']}" for n, e in chosen}
    if unknown:
        raise SystemExit(f"not in the table ({TABLE.relative_to(ROOT)}): {', '.join(sorted(unknown))}")
    return chosen


def cmd_build(args: argparse.Namespace) -> int:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    artifacts = []
    for name, entry in selected(table_entries(TABLE), args.artifacts):
        if entry["sha256"] is None:
            raise SystemExit(f"{entry['file']}: sha256 not locked; run: python tools/bundle.py lock")
        path = obtain(name, entry, out)
        digest = sha256(path)
        # Images keep their registry digest in the table; the signed manifest records their archive's sha256.
        pinned_file = entry["sha256"] != bundle_image.BUILT and not bundle_registry.is_image(entry)
        if pinned_file and digest != entry["sha256"]:
            raise SystemExit(f"{entry['file']}: sha256 {digest} does not match the table's {entry['sha256']}")
        artifacts.append(bundle.manifest_entry(name, entry, path.stat().st_size, digest))
    manifest = bundle.build_manifest(artifacts, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    drop_stale(out, manifest)
    write_signed(out, manifest)
    if args.tarball:
        pack(out, args.tarball)
    return 0


def drop_stale(out: Path, manifest: dict[str, Any]) -> None:
    """Remove the artifacts of an earlier build that this manifest does not list (a verified bundle holds
    nothing unlisted); anything else unlisted in the directory is refused, not deleted."""
    known = {str(e["file"]) for _, e in table_entries(TABLE)}
    known |= {f".{f}{suffix}" for f in known for suffix in bundle.BUILDER_MARKERS}
    own = {bundle.MANIFEST, bundle.SIGNATURE, bundle.PUBLIC_KEY, bundle.SBOM}
    unlisted = [n for n in bundle.unlisted(manifest, [p.name for p in out.iterdir()]) if n not in own]
    foreign = [n for n in unlisted if n not in known]
    if foreign:
        raise SystemExit(f"{out}: {', '.join(foreign)} not bundle artifacts; build into an empty directory")
    for name in unlisted:
        (out / name).unlink()


def write_signed(out: Path, manifest: dict[str, Any]) -> None:
    data = json.dumps(manifest, indent=2, sort_keys=True).encode()
    key = bundle_sign.load_or_create_key(SIGNING_KEY)
    (out / MANIFEST).write_bytes(data)
    (out / SBOM).write_text(json.dumps(bundle.cyclonedx(manifest, str(uuid.uuid4())), indent=2))
    (out / SIGNATURE).write_bytes(bundle_sign.sign(key, data))
    (out / PUBLIC_KEY).write_bytes(bundle_sign.public_pem(key))
    signer = bundle.signer_fingerprint(bundle_sign.public_pem(key))
    # Sites pin this value (offline_bundle_signer); the lab's Makefile reads it from here.
    (SIGNING_KEY.parent / "signer.sha256").write_text(signer + "\n")
    print(f"{out / MANIFEST}: {len(manifest['artifacts'])} artifacts, signer {signer}")


def pack(out: Path, tarball: Path) -> None:
    # Dot files are the builder's own markers (which image or digest an archive holds), not the bundle's.
    files = sorted(p for p in out.iterdir() if p.is_file() and not p.name.startswith("."))
    total = sum(p.stat().st_size for p in files)
    done = 0
    with tarfile.open(tarball, "w:gz") as tar:
        for path in files:
            tar.add(path, arcname=f"{out.name}/{path.name}")
            done += path.stat().st_size
            sys.stderr.write(f"\rpacking {tarball.name} {done * 100 // max(total, 1):3d}%")
    sys.stderr.write("\n")


def cmd_verify(args: argparse.Namespace) -> int:
    problems = verify_dir(args.dir, args.signer)
    for line in problems:
        print(line)
    if not problems:
        print(f"{args.dir}: signature, manifest, SBOM and every file verified")
        if args.trust_on_first_use:
            fingerprint = bundle.signer_fingerprint((args.dir / bundle.PUBLIC_KEY).read_bytes())
            print(f"TRUST ON FIRST USE: signed by {fingerprint}; pin it (--signer, offline_bundle_signer)")
    return 1 if problems else 0


def verify_dir(directory: Path, signer: str | None) -> list[str]:
    """Every problem of a bundle directory, each naming its file; empty when it can be trusted."""
    return bundle.verify_dir(str(directory), signer)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    lock = sub.add_parser("lock", help="record missing checksums (trust on first use)")
    lock.add_argument("--table", type=Path, default=TABLE)
    build = sub.add_parser("build", help="build a bundle directory")
    build.add_argument("out", type=Path)
    build.add_argument("artifacts", nargs="*", help="NAME@VERSION; default: every locked artifact")
    build.add_argument("--tarball", type=Path)
    verify = sub.add_parser("verify", help="verify a bundle directory")
    verify.add_argument("dir", type=Path)
    trust = verify.add_mutually_exclusive_group(required=True)
    trust.add_argument("--signer", help="sha256 of the trusted signing key (printed by build)")
    trust.add_argument(
        "--trust-on-first-use",
        action="store_true",
        help="trust the key the bundle carries (integrity, not origin) and print its fingerprint to pin",
    )
    args = parser.parse_args(argv)
    try:
        return {"lock": cmd_lock, "build": cmd_build, "verify": cmd_verify}[args.command](args)
    except (DownloadError, bundle_registry.ImageError) as exc:
        print(exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
