"""Uploaded files on this instance's disk, each locked by the process whose job uses it.

Uploads go to ``<data_dir>/imports/<instance>/``, where ``<instance>`` is a random id made
once per data directory: two servers on one PostgreSQL database never share a path, even
with the same ``POWERDIALER_DATA_DIR`` on different hosts.

The process that received an upload holds an exclusive ``flock`` on it until its job ends.
The kernel drops the lock when that process dies, however it dies, so at startup an upload
of an unfinished job that can be locked belongs to a dead process (see :func:`is_abandoned`),
while one still locked belongs to a sibling worker (``serve --workers N``) that is alive.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ReceivedUpload", "Upload", "instance_dir", "is_abandoned", "known_instance_dir"]

_INSTANCE_FILE = "instance-id"


def instance_dir(data_dir: str | os.PathLike[str]) -> Path:
    """This instance's upload folder, created (with its id) on first use."""
    root = Path(data_dir).expanduser().resolve() / "imports"
    root.mkdir(parents=True, exist_ok=True)
    marker = root / _INSTANCE_FILE
    if not marker.exists():
        # Written aside and linked into place: atomic, so sibling workers starting together
        # agree on one id and none reads a half-written file.
        draft = root / f".{uuid.uuid4().hex}.tmp"
        draft.write_text(uuid.uuid4().hex + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(draft, marker)
        draft.unlink()
    instance = marker.read_text().strip()
    folder = root / instance
    folder.mkdir(exist_ok=True)
    return folder


def known_instance_dir(data_dir: str | os.PathLike[str]) -> Path | None:
    """This instance's upload folder if it has ever had one; nothing is created."""
    marker = Path(data_dir).expanduser().resolve() / "imports" / _INSTANCE_FILE
    if not marker.exists():
        return None
    return marker.parent / marker.read_text().strip()


class Upload:
    """A new file in :func:`instance_dir`, exclusively locked until :meth:`release`."""

    def __init__(self, folder: Path, suffix: str = "") -> None:
        clean = "".join(c for c in suffix.lower() if c.isalnum())[:8]
        self.path = folder / f"{uuid.uuid4().hex}.{clean or 'upload'}"
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self.size = 0

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self.size += len(data)

    def release(self) -> None:
        """Delete the file and drop the lock (closing the descriptor drops it)."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


@dataclass(frozen=True, slots=True)
class ReceivedUpload:
    """An upload form as an edge read it off the wire: the file on disk (its receiver owns
    it: released unless handed on) and the small text fields sent beside it."""

    upload: Upload
    filename: str
    fields: dict[str, str] = field(default_factory=dict)


def is_abandoned(folder: Path, path: str) -> bool:
    """Whether ``path`` is an upload of this instance that no live process holds; if so,
    it is deleted.  Paths outside ``folder`` belong to other instances: never abandoned."""
    file = Path(path)
    if file.parent != folder:
        return False
    try:
        fd = os.open(file, os.O_RDONLY)
    except FileNotFoundError:
        return True  # this instance's, and gone: nobody can be working on it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    with contextlib.suppress(FileNotFoundError):
        file.unlink()
    return True
