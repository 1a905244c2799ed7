"""Safe output writing: temp-and-rename for files, write-through for everything else."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.export.output import atomic_directory, open_output, write_bytes, write_text


def _failing_chunks() -> Iterator[str]:
    yield "half of it"
    raise RuntimeError("producer broke")


def test_a_new_file_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "out.json", ["[]\n"])
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out.json").stat().st_mode) == 0o644
    assert (tmp_path / "out.json").read_text() == "[]\n"


def test_a_new_file_follows_a_stricter_umask_too(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        write_text(tmp_path / "out.json", ["x"])
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out.json").stat().st_mode) == 0o600


def test_an_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    target.chmod(0o640)
    write_text(target, ["new"])
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        write_text(tmp_path / "out.json", _failing_chunks())
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        write_text(target, _failing_chunks())
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_missing_folders_are_created(tmp_path: Path) -> None:
    write_text(tmp_path / "a" / "b" / "out.jsonl", ["{}\n"])
    assert (tmp_path / "a" / "b" / "out.jsonl").read_text() == "{}\n"


def test_a_symlink_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_text(link, ["new"])
    assert link.is_symlink()
    assert real.read_text() == "new"


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "later.json")
    write_text(link, ["made"])
    assert link.is_symlink()
    assert (tmp_path / "later.json").read_text() == "made"


def test_a_hard_link_keeps_its_inode_and_both_names_see_the_content(tmp_path: Path) -> None:
    first = tmp_path / "first.json"
    first.write_text("old")
    second = tmp_path / "second.json"
    os.link(first, second)
    inode = first.stat().st_ino
    write_text(second, ["new content"])
    assert second.stat().st_ino == inode
    assert first.read_text() == "new content"
    assert first.stat().st_nlink == 2


def test_a_hard_link_is_untouched_when_the_producer_fails(tmp_path: Path) -> None:
    first = tmp_path / "first.json"
    first.write_text("old")
    os.link(first, tmp_path / "second.json")
    with pytest.raises(RuntimeError):
        write_text(first, _failing_chunks())
    assert (tmp_path / "second.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.json", "second.json"]


def test_a_fifo_is_written_through_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_text(fifo, ["through ", "the pipe"])
    reader.join(timeout=10)
    assert received == [b"through the pipe"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_dev_null_is_written_through_and_stays_a_character_device() -> None:
    write_bytes("/dev/null", [b"discarded"])
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


def test_dash_means_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    write_text("-", ["to stdout\n"])
    assert capsys.readouterr().out == "to stdout\n"
    assert not Path("-").exists()


def test_a_directory_target_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError) as info:
        write_text(tmp_path, ["x"])
    assert info.value.filename == str(tmp_path)


def test_an_unwritable_folder_names_the_requested_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError) as info:
        write_text(blocker / "out.json", ["x"])
    assert info.value.filename == str(blocker / "out.json")


def test_an_atomic_directory_replaces_the_old_one_only_on_success(tmp_path: Path) -> None:
    target = tmp_path / "ds"
    with atomic_directory(target) as tmp:
        (tmp / "a.txt").write_text("1")
    assert (target / "a.txt").read_text() == "1"
    with pytest.raises(RuntimeError), atomic_directory(target) as tmp:
        (tmp / "b.txt").write_text("2")
        raise RuntimeError("save failed")
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]
    with atomic_directory(target) as tmp:
        (tmp / "c.txt").write_text("3")
    assert sorted(p.name for p in target.iterdir()) == ["c.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]


def test_binary_mode_writes_bytes(tmp_path: Path) -> None:
    with open_output(tmp_path / "x.bin", "binary") as out:
        out.write(b"\x00\x01")  # type: ignore[arg-type]
    assert (tmp_path / "x.bin").read_bytes() == b"\x00\x01"
