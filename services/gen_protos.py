"""Regenerate the gRPC stubs in miniapp_services/proto from services/proto (run by `make protos`).

The stubs are committed so that the image build needs no grpcio-tools; tests check they are current.
"""

from __future__ import annotations

import sys
from pathlib import Path

from grpc_tools import protoc

HERE = Path(__file__).resolve().parent
PROTO_ROOT = HERE / "proto"


def generate(out: Path) -> list[Path]:
    """Write *_pb2.py, *_pb2.pyi and *_pb2_grpc.py for every .proto into out (a package root)."""
    protos = sorted(PROTO_ROOT.rglob("*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    for proto in protos:
        args = ["protoc", f"-I{PROTO_ROOT}", f"-I{include}", f"--python_out={out}", f"--pyi_out={out}"]
        if protoc.main([*args, f"--grpc_python_out={out}", str(proto)]) != 0:
            raise SystemExit(f"protoc failed on {proto}")
    return protos


if __name__ == "__main__":
    print(f"generated stubs for {len(generate(HERE))} protos", file=sys.stderr)
