"""The lab's mesh backend: the rendered Istio objects compiled into Envoy sidecar configuration with Istio's
semantics (../shared/reference/mesh-load-anchors.md, section 1), as pure functions."""

# The lab's front door, the edge's port published on the host's loopback: what the handover load, the mesh
# tests and the benchmarks drive by default. Here, so that they need not import the backend to know it.
EDGE_PORT = 18080
EDGE_URL = f"http://127.0.0.1:{EDGE_PORT}"
