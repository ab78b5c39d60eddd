"""Run a play of the collection's action plugins on localhost with the project's configuration."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture
def play(tmp_path: Path):
    """play(tasks, check=False, diff=False, facts=False) -> the finished ansible-playbook -v run on localhost."""

    def run(
        tasks: list[dict], *, check: bool = False, diff: bool = False, facts: bool = False
    ) -> subprocess.CompletedProcess[str]:
        (tmp_path / "play.yml").write_text(json.dumps([{"hosts": "localhost", "gather_facts": facts, "tasks": tasks}]))
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", HOME=str(tmp_path))
        interpreter = json.dumps({"ansible_python_interpreter": sys.executable})
        cmd = [Path(sys.executable).parent / "ansible-playbook", "-v", "-i", "localhost,", "-c", "local", "-e", interpreter,
               *(["--check"] if check else []), *(["--diff"] if diff else []), str(tmp_path / "play.yml")]  # fmt: skip
        return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False)

    return run
