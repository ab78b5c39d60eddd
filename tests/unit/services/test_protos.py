"""The committed gRPC stubs are what services/gen_protos.py makes from services/proto today."""

from pathlib import Path

import gen_protos

COMMITTED = Path(gen_protos.__file__).parent / "miniapp_services" / "proto"


def test_stubs_are_current(tmp_path: Path) -> None:
    (tmp_path / "miniapp_services" / "proto").mkdir(parents=True)
    protos = gen_protos.generate(tmp_path)
    fresh = tmp_path / "miniapp_services" / "proto"
    names = sorted(p.name for p in fresh.iterdir())
    assert len(names) == 3 * len(protos)
    stale = [n for n in names if (fresh / n).read_bytes() != (COMMITTED / n).read_bytes()]
    assert stale == [], f"regenerate with `make protos`: {stale}"
