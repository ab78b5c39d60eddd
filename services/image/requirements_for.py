"""Print a hashed requirements file with each environment marker judged for another interpreter.

pip download judges markers such as `python_full_version < '3.11.3'` for the interpreter that runs it,
not for --python-version, so the host would leave out a wheel the image's older Python needs. Entries
whose marker holds are printed without it; the others are dropped.

Usage: python requirements_for.py REQUIREMENTS PYTHON_VERSION
"""

from __future__ import annotations

import re
import sys

from pip._vendor.packaging.markers import Marker


def judged(text: str, python: str) -> str:
    """The requirements text with markers evaluated for a Linux x86_64 CPython of that version."""
    env = {
        "python_full_version": python,
        "python_version": ".".join(python.split(".")[:2]),
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "os_name": "posix",
    }
    kept = []
    for entry in re.split(r"\n(?=\S)", text.strip()):
        head, _, rest = entry.partition(" \\\n")
        requirement, _, marker = head.partition(" ; ")
        if not marker or Marker(marker).evaluate(env):
            kept.append(requirement + (" \\\n" + rest if rest else ""))
    return "\n".join(kept) + "\n"


if __name__ == "__main__":
    with open(sys.argv[1]) as source:
        sys.stdout.write(judged(source.read(), sys.argv[2]))
