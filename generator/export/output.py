"""Safe output writing: all or nothing for files, write-through for anything else.

What happens depends on what the target path is when the write starts:

* ``-``: standard output (text or bytes); nothing is created.
* a symlink: followed (``os.path.realpath``); the link's target is written, the link stays.
* a regular file with one link, or a path that does not exist yet: the data go to a
  temporary file in the target's folder, which is fsynced and renamed over the target at
  the end. A failure (also in the producer of the data) leaves the old file or nothing.
  An existing file keeps its permission bits; a new file gets ``0o666 & ~umask``, like
  any file a user's shell creates (``mkstemp`` alone would leave it ``0600``).
* a regular file with several hard links: the data are first written completely to a
  temporary file, then copied into the existing file (same inode, so every link sees
  the new content). A failure while producing the data leaves the file untouched; only
  a failure during the final copy (e.g. the disk filling up) can leave it half written.
* anything else that exists (``/dev/null``, a FIFO, a character device, a socket's
  path...): opened for writing and written through, never replaced or unlinked.

Directories (a Hugging Face ``save_to_disk`` folder) are built in a temporary sibling and
renamed into place by :func:`atomic_directory`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Literal

STDOUT = "-"
Mode = Literal["text", "binary"]


def current_umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _named(exc: OSError, path: Path) -> OSError:
    """The same OS error naming the path the user asked for, not a temporary one."""
    return OSError(exc.errno, exc.strerror, str(path))


def _open_fd(fd: int, mode: Mode) -> IO[str] | IO[bytes]:
    if mode == "binary":
        return os.fdopen(fd, "wb")
    return os.fdopen(fd, "w", encoding="utf-8", newline="\n")


@contextlib.contextmanager
def _through(path: Path, mode: Mode) -> Iterator[IO[str] | IO[bytes]]:
    """Write straight into an existing non-regular file (device, FIFO): never replace it."""
    try:
        fd = os.open(path, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _named(exc, path) from exc
    with _open_fd(fd, mode) as out:
        yield out


@contextlib.contextmanager
def _temporary(target: Path, mode: Mode) -> Iterator[tuple[IO[str] | IO[bytes], Path]]:
    """A temporary file next to ``target``, removed when the body fails."""
    folder = target.parent
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise _named(exc, target) from exc
    tmp = Path(name)
    try:
        with _open_fd(fd, mode) as out:
            yield out, tmp
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _replace(target: Path, mode: Mode, existing: os.stat_result | None) -> Iterator[IO[str] | IO[bytes]]:
    """Write a temporary file and rename it over ``target`` (one-link regular file or new path)."""
    with _temporary(target, mode) as (out, tmp):
        yield out
    try:
        bits = stat.S_IMODE(existing.st_mode) if existing else 0o666 & ~current_umask()
        os.chmod(tmp, bits)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _named(exc, target) from exc


@contextlib.contextmanager
def _in_place(target: Path, mode: Mode) -> Iterator[IO[str] | IO[bytes]]:
    """Hard-linked file: produce everything first, then copy into the same inode."""
    with _temporary(target, mode) as (out, tmp):
        yield out
    try:
        with open(tmp, "rb") as src, open(target, "r+b") as dst:
            dst.truncate(0)
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())
    except OSError as exc:
        raise _named(exc, target) from exc
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def _stdout(mode: Mode) -> Iterator[IO[str] | IO[bytes]]:
    stream: IO[str] | IO[bytes] = sys.stdout.buffer if mode == "binary" else sys.stdout
    yield stream
    stream.flush()


def resolve_target(path: str | os.PathLike[str]) -> Path:
    """The file a write to ``path`` lands in: symlinks followed, ``~`` expanded."""
    return Path(os.path.realpath(Path(path).expanduser()))


def open_output(
    path: str | os.PathLike[str], mode: Mode = "text", *, parents: bool = True
) -> contextlib.AbstractContextManager[IO[str] | IO[bytes]]:
    """A context manager yielding a stream whose content becomes ``path`` (rules: module docstring).

    ``parents`` creates missing folders of a new path first. Errors are ``OSError``s naming
    ``path``; a directory as target is ``IsADirectoryError``.
    """
    if str(path) == STDOUT:
        return _stdout(mode)
    target = resolve_target(path)
    try:
        existing: os.stat_result | None = target.stat()
    except FileNotFoundError:
        existing = None
    except OSError as exc:
        raise _named(exc, Path(path)) from exc
    if existing is None:
        if parents:
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise _named(exc, Path(path)) from exc
        return _replace(target, mode, None)
    if stat.S_ISDIR(existing.st_mode):
        raise IsADirectoryError(21, "is a directory", str(path))
    if not stat.S_ISREG(existing.st_mode):
        return _through(target, mode)
    if existing.st_nlink > 1:
        return _in_place(target, mode)
    return _replace(target, mode, existing)


def write_text(path: str | os.PathLike[str], chunks: Iterable[str]) -> None:
    """Write text chunks (consumed lazily, so memory stays flat) to ``path`` safely."""
    with open_output(path, "text") as out:
        for chunk in chunks:
            out.write(chunk)  # type: ignore[arg-type,call-overload]


def write_bytes(path: str | os.PathLike[str], chunks: Iterable[bytes]) -> None:
    """Write byte chunks (consumed lazily) to ``path`` safely."""
    with open_output(path, "binary") as out:
        for chunk in chunks:
            out.write(chunk)  # type: ignore[arg-type,call-overload]


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty temporary folder next to ``path``; on success it replaces ``path``.

    An existing folder at ``path`` is moved aside and removed only after the new one is in
    place; a failure removes the temporary folder and leaves ``path`` as it was. The new
    folder gets ``0o777 & ~umask``.
    """
    target = resolve_target(path)
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(20, "exists and is not a directory", str(path))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as exc:
        raise _named(exc, Path(path)) from exc
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~current_umask())
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
