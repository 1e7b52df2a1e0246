"""A ``multipart/form-data`` body for file uploads, streamed from disk in chunks and
replayable (a retry sends the file again from its start)."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["MultipartBody"]

CHUNK = 1 << 16


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")


class MultipartBody:
    def __init__(
        self,
        fields: dict[str, str],
        file_field: str,
        source: str | os.PathLike[str] | BinaryIO,
        filename: str | None = None,
    ) -> None:
        self.boundary = uuid.uuid4().hex
        self._path: Path | None = None
        self._stream: BinaryIO | None = None
        self._start = 0
        if isinstance(source, str | os.PathLike):
            self._path = Path(source)
            size = self._path.stat().st_size
            filename = filename or self._path.name
        else:
            stream = source
            if not stream.seekable():  # read once so that a retry can send it again
                stream = io.BytesIO(stream.read())
            self._stream = stream
            self._start = stream.tell()
            size = stream.seek(0, os.SEEK_END) - self._start
            stream.seek(self._start)
            name = getattr(source, "name", None)
            filename = filename or (os.path.basename(name) if isinstance(name, str) else "upload")
        head = []
        for name, value in fields.items():
            head.append(
                f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"'
                f"\r\n\r\n{value}\r\n"
            )
        head.append(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quote(file_field)}"; '
            f'filename="{_quote(filename)}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        self._head = "".join(head).encode("utf-8")
        self._tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.length = len(self._head) + size + len(self._tail)

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def chunks(self) -> Iterator[bytes]:
        yield self._head
        if self._path is not None:
            with self._path.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    yield chunk
        elif self._stream is not None:
            self._stream.seek(self._start)
            while chunk := self._stream.read(CHUNK):
                yield chunk
        yield self._tail

    async def achunks(self) -> AsyncIterator[bytes]:
        # Local file reads of 64 KiB do not block the loop long enough to matter.
        for chunk in self.chunks():
            yield chunk
