"""The lab's mesh backend: the rendered Istio objects compiled into Envoy sidecar configuration with Istio's
semantics (../shared/reference/mesh-load-anchors.md, section 1), as pure functions."""

import sys
from pathlib import Path

# The collection's strict Istio models (plugins/module_utils/istio_models.py), importable by their
# collection name through the repository's collections/ link, as the roles and the tests import them.
_COLLECTIONS = str(Path(__file__).resolve().parents[2] / "collections")
if _COLLECTIONS not in sys.path:
    sys.path.append(_COLLECTIONS)
