"""The lab's mesh backend: the rendered Istio objects compiled into Envoy sidecar configuration with Istio's
semantics (../shared/reference/mesh-load-anchors.md, section 1), as pure functions."""
