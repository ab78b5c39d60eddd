"""Replace one benchmark's section of docs/benchmarks.md, keeping every other section.

Usage: python benchmarks/write_section.py NAME < section.md
"""

import re
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = "# Benchmarks\n\nEach section is written by its benchmark (`make bench`); do not edit between the markers.\n"


def replace_section(text: str, name: str, body: str) -> str:
    """Return ``text`` with the section ``name`` set to ``body``, appended when new."""
    block = f"<!-- BEGIN {name} -->\n{body.rstrip()}\n<!-- END {name} -->"
    pattern = re.compile(rf"<!-- BEGIN {re.escape(name)} -->.*?<!-- END {re.escape(name)} -->", re.S)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text)
    return text.rstrip() + "\n\n" + block + "\n"


def main() -> None:
    name = sys.argv[1]
    text = DOC.read_text() if DOC.exists() else HEADER
    DOC.write_text(replace_section(text, name, sys.stdin.read()))


if __name__ == "__main__":
    main()
