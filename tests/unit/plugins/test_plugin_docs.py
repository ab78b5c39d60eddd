"""Every plugin's DOCUMENTATION, EXAMPLES and RETURN are YAML that ansible-doc can read: a plain scalar holding
': ' once broke two filters' documentation, which ansible-lint only printed as an error and let pass."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

PLUGINS = Path(__file__).resolve().parents[3] / "plugins"
DOCUMENTED = sorted(p for kind in ("filter", "lookup", "modules") for p in (PLUGINS / kind).glob("*.py"))
BLOCKS = ("DOCUMENTATION", "EXAMPLES", "RETURN")


def _blocks(path: Path) -> dict[str, str]:
    found = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(target := node.targets[0], ast.Name) and target.id in BLOCKS:
            assert isinstance(node.value, ast.Constant), f"{path.name}: {target.id} is not a literal string"
            found[target.id] = node.value.value
    return found


@pytest.mark.parametrize("path", DOCUMENTED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_plugin_documents_itself_in_yaml(path: Path) -> None:
    blocks = _blocks(path)
    assert "DOCUMENTATION" in blocks, f"{path.name} has no DOCUMENTATION"
    for name, text in blocks.items():
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError as err:
            pytest.fail(f"{path.name}: {name} is not YAML: {err}")
        if name == "DOCUMENTATION":
            assert {"short_description", "description"} <= set(parsed), f"{path.name}: {sorted(parsed)}"
