"""docs/benchmarks.md keeps every benchmark's section when one is rewritten."""

import pytest

from benchmarks import write_section

DOC = "# Benchmarks\n\n<!-- BEGIN a -->\nold a\n<!-- END a -->\n\n<!-- BEGIN b -->\nold b\n<!-- END b -->\n"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a", "<!-- BEGIN a -->\nnew\n<!-- END a -->\n\n<!-- BEGIN b -->\nold b"),
        ("b", "<!-- BEGIN a -->\nold a\n<!-- END a -->\n\n<!-- BEGIN b -->\nnew\n<!-- END b -->"),
        ("c", "old b\n<!-- END b -->\n\n<!-- BEGIN c -->\nnew\n<!-- END c -->\n"),
    ],
    ids=["first", "last", "appended"],
)
def test_replace_section(name, expected):
    assert expected in write_section.replace_section(DOC, name, "new\n")


def test_backslashes_in_figures_are_kept():
    assert "C:\\d" in write_section.replace_section(DOC, "a", "C:\\d")
