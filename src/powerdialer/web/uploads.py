"""The multipart body of an upload (an import or a preview, from the API or the web UI),
parsed as it streams in (``python-multipart``): the ``file`` part goes straight to this
instance's disk, never whole into memory, and is cut off with 413 ``body_too_large`` at the
upload limit; the small text fields beside it (the mapping, keep_valid, the UI's CSRF token)
are capped in count and size.  What is done with the upload is
:mod:`powerdialer.importing.start`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path as FilePath

from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header
from starlette.exceptions import HTTPException
from starlette.requests import Request

from powerdialer.errors import ValidationError
from powerdialer.importing.start import ReceiveUpload
from powerdialer.importing.uploads import ReceivedUpload, Upload
from powerdialer.text import one_line

# The form's text beside the file is held in memory while the file streams to disk, so it
# is capped: in parts, in bytes per part and in all.  A part's headers are bounded by
# python-multipart itself (8 headers of at most 4,224 bytes each).
MAX_FORM_FIELDS = 16  # parts other than the file (the forms send 1 to 3)
MAX_FIELD_BYTES = 64 * 1024  # one form field other than the file (the mapping JSON)
MAX_FORM_TEXT_BYTES = 256 * 1024  # all of them together


def _invalid_upload(message: str) -> ValidationError:
    return ValidationError(message, code="invalid_upload", field="file")


def _utf8(raw: bytes, field: str, what: str) -> str:
    """Text of the form as sent: UTF-8 (RFC 7578), else refused rather than guessed at."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(
            f"{what} is not UTF-8 text ({raw[:40]!r}): send the form's names and values "
            "encoded as UTF-8.",
            code="invalid_upload",
            field=field,
            reason="invalid_text",
        ) from None


def _malformed(detail: str) -> ValidationError:
    return ValidationError(
        f"the body is not a well-formed multipart/form-data form ({detail}): send the file "
        "in the field 'file' with the boundary given in Content-Type, and the whole body.",
        code="invalid_upload",
        field="file",
        reason="malformed",
    )


def _form_too_large(message: str, field: str) -> ValidationError:
    """413 ``form_too_large`` (``web.responses.status_for``): a form past one of its caps."""
    return ValidationError(message, code="form_too_large", field=field)


def _too_large(limit: int) -> HTTPException:
    return HTTPException(
        413, f"the file is larger than {limit} bytes (the upload limit): split the file."
    )


class UploadForm:
    """A multipart body as it streams: the ``file`` part into an :class:`Upload`, the other
    fields (small) into ``fields``."""

    def __init__(self, new_upload: Callable[[str], Upload], limit: int) -> None:
        self.new_upload = new_upload
        self.limit = limit
        self.upload: Upload | None = None
        self.filename = ""
        self.fields: dict[str, str] = {}
        self._header = (bytearray(), bytearray())
        self._disposition = b""
        self._field: str | None = None
        self._value = bytearray()
        self._ended = False  # the closing boundary was read
        self._text_fields = 0
        self._text_bytes = 0

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header[0].extend(data[start:end])

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header[1].extend(data[start:end])

    def on_header_end(self) -> None:
        name, value = self._header
        if bytes(name).lower() == b"content-disposition":
            self._disposition = bytes(value)
        self._header = (bytearray(), bytearray())

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self._disposition)
        self._disposition = b""
        name = _utf8(params.get(b"name", b""), "form", "a form field's name")
        self._field, self._value = name, bytearray()
        if name != "file":
            self._text_fields += 1
            if self._text_fields > MAX_FORM_FIELDS:
                raise _form_too_large(
                    f"the form has more than {MAX_FORM_FIELDS} fields beside the file (the "
                    "limit): send only file, mapping and keep_valid.",
                    name or "body",
                )
        if name == "file":
            if self.upload is not None:
                raise _invalid_upload("send one file per upload, in the field 'file'.")
            self.filename = one_line(_utf8(params.get(b"filename", b""), "file", "the file's name"))
            self.filename = FilePath(self.filename.replace("\\", "/")).name or "upload"
            self.upload = self.new_upload(self.filename)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._field == "file" and self.upload is not None:
            if self.upload.size + end - start > self.limit:
                raise _too_large(self.limit)
            self.upload.write(data[start:end])
        elif self._field is not None:
            # The field's own cap first, before anything is kept: which cap a long field
            # passes must not depend on how the body happened to arrive in chunks (one
            # chunk of 300 KiB passed the total's before the field's).
            if len(self._value) + end - start > MAX_FIELD_BYTES:
                raise _form_too_large(
                    f"the form field {self._field!r} is longer than {MAX_FIELD_BYTES} bytes "
                    "(the limit for a field beside the file): send a shorter value.",
                    self._field or "body",
                )
            self._text_bytes += end - start
            if self._text_bytes > MAX_FORM_TEXT_BYTES:
                raise _form_too_large(
                    f"the form's fields beside the file are longer than {MAX_FORM_TEXT_BYTES} "
                    "bytes together (the limit): send only file, mapping and keep_valid.",
                    self._field or "body",
                )
            self._value.extend(data[start:end])

    def on_end(self) -> None:
        self._ended = True

    def on_part_end(self) -> None:
        if self._field and self._field != "file":
            self.fields[self._field] = _utf8(
                bytes(self._value), self._field, f"the field {self._field!r}"
            )
        self._field = None

    async def receive(self, request: Request) -> ReceivedUpload:
        """Read the whole body; the file on disk, or an error (and nothing left on disk)."""
        kind, params = parse_options_header(request.headers.get("content-type", ""))
        if kind != b"multipart/form-data" or not params.get(b"boundary"):
            raise _invalid_upload("send the file as multipart/form-data in the field 'file'.")
        callbacks = {n: getattr(self, n) for n in dir(self) if n.startswith("on_")}
        parser = MultipartParser(params[b"boundary"], callbacks)  # type: ignore[arg-type]
        try:
            async for chunk in request.stream():
                parser.write(chunk)
            parser.finalize()
            if not self._ended:
                raise _malformed("the body ends before the form's closing boundary (cut off?)")
            if self.upload is None:
                raise _invalid_upload("the form has no file: send it in the field 'file'.")
        except MultipartParseError as exc:
            if self.upload is not None:
                self.upload.release()
            raise _malformed(str(exc)) from None
        except BaseException:
            if self.upload is not None:
                self.upload.release()
            raise
        return ReceivedUpload(self.upload, self.filename, self.fields)


def reader(request: Request, limit: int) -> ReceiveUpload:
    """The request's upload form, read into the upload it is handed, up to ``limit`` bytes of
    file: the ``receive`` that :func:`~powerdialer.importing.start.start_import` takes."""

    async def receive(new_upload: Callable[[str], Upload]) -> ReceivedUpload:
        return await UploadForm(new_upload, limit).receive(request)

    return receive
