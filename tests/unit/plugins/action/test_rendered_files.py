"""miniapp.mesh.rendered_files: a role's rendered files in one task, each written only when it changed."""

import json
import os
from pathlib import Path


def _write(dest: Path, files: dict, **options: object) -> list[dict]:
    return [{"name": "Write", "miniapp.mesh.rendered_files": {"dest": str(dest), "files": files, **options},
             "register": "written"}, {"ansible.builtin.debug": {"msg": "files={{ written.files | join(',') }}"}}]  # fmt: skip


def test_writes_new_files_with_their_directories_then_nothing_on_a_rerun(tmp_path, play) -> None:
    dest, files = tmp_path / "out", {"a.yml": "a: 1\n", "deep/b.txt": "b"}
    first = play(_write(dest, files))
    assert first.returncode == 0, first.stdout[-2000:]
    assert "changed=1" in first.stdout
    assert (dest / "a.yml").read_text() == "a: 1\n"
    assert (dest / "deep/b.txt").read_text() == "b"
    assert oct((dest / "a.yml").stat().st_mode & 0o777) == "0o644"
    assert oct((dest / "deep").stat().st_mode & 0o777) == "0o755"
    again = play(_write(dest, files))
    assert "changed=0" in again.stdout, again.stdout[-2000:]


def test_only_the_changed_file_is_written_and_reported(tmp_path, play) -> None:
    dest = tmp_path / "out"
    assert play(_write(dest, {"a": "1", "b": "2"})).returncode == 0
    untouched = (dest / "a").stat().st_mtime_ns
    done = play(_write(dest, {"a": "1", "b": "3"}))
    assert done.returncode == 0
    assert "changed=1" in done.stdout
    assert "files=b\n" in done.stdout
    assert (dest / "b").read_text() == "3"
    assert (dest / "a").stat().st_mtime_ns == untouched


def test_check_mode_reports_and_writes_nothing(tmp_path, play) -> None:
    done = play(_write(tmp_path / "out", {"a": "1"}), check=True, diff=True)
    assert done.returncode == 0
    assert "changed=1" in done.stdout
    assert "+1" in done.stdout  # the diff of the new file
    assert not (tmp_path / "out").exists()


def test_a_mode_is_set_on_an_unchanged_file(tmp_path, play) -> None:
    dest = tmp_path / "out"
    assert play(_write(dest, {"s": "secret"}, mode="0600")).returncode == 0
    os.chmod(dest / "s", 0o644)
    done = play(_write(dest, {"s": "secret"}, mode="0600"))
    assert "changed=1" in done.stdout
    assert oct((dest / "s").stat().st_mode & 0o777) == "0o600"


def test_a_file_the_check_refuses_is_not_written_and_the_refusal_is_named(tmp_path, play) -> None:
    dest = tmp_path / "out"
    done = play(_write(dest, {"ok.json": "{}", "bad.json": "{nope"}, validate={"*.json": "python3 -m json.tool %s"}))
    assert done.returncode != 0
    assert "bad.json: python3 -m json.tool %s refused it" in done.stdout
    assert not (dest / "bad.json").exists()
    assert not list(dest.glob("*.check"))  # the checked copy is gone


def test_a_path_out_of_dest_is_refused(tmp_path, play) -> None:
    done = play(_write(tmp_path / "out", {"../escape": "x"}))
    assert done.returncode != 0
    assert "files: ../escape leaves dest" in done.stdout
    assert not (tmp_path / "escape").exists()


def test_files_must_be_a_mapping(tmp_path, play) -> None:
    done = play(_write(tmp_path / "out", json.loads('["a"]')))
    assert done.returncode != 0
    assert "files" in done.stdout
