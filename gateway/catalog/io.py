"""Reading and writing ``availability-catalog/1`` files (JSON via orjson).

Kept apart from :mod:`gateway.catalog` so that validation stays pure. ``"-"`` means standard
input / standard output. Output is stable: 2-space indentation, keys in the order of the given
document (:func:`gateway.catalog.dump_catalog` gives the canonical order), a trailing newline.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO

import orjson

STDIO = "-"
#: Files at least this big get a progress bar (when asked for and stderr is a terminal).
PROGRESS_THRESHOLD = 1 << 20
_CHUNK = 1 << 20
_BOM = b"\xef\xbb\xbf"

PathArg = str | os.PathLike[str]


class CatalogFileError(Exception):
    """A catalog file that cannot be read, decoded or written; ``str()`` is for people.

    ``line`` and ``column`` (1-based) locate malformed JSON when known.
    """

    def __init__(self, path: str, message: str, line: int | None = None,
                 column: int | None = None) -> None:
        where = path if line is None else f"{path}:{line}:{column}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.message = message
        self.line = line
        self.column = column


def _display(path: PathArg) -> str:
    text = os.fspath(path)
    return "<stdin>" if text == STDIO else text


def _read_all(stream: BinaryIO, size: int, name: str, progress: bool) -> bytes:
    if not progress:
        return stream.read()
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TransferSpeedColumn,
    )

    chunks: list[bytes] = []
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"reading {name}", total=size)
        while chunk := stream.read(_CHUNK):
            chunks.append(chunk)
            bar.advance(task, len(chunk))
    return b"".join(chunks)


def _parse(data: bytes, name: str, progress: bool) -> object:
    if not progress:
        return orjson.loads(data)
    from rich.console import Console

    with Console(stderr=True).status(f"parsing {name}"):
        return orjson.loads(data)


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of byte ``offset``."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


def decode_catalog_bytes(data: bytes, name: str = "<catalog>", *,
                         progress: bool = False) -> object:
    """Decode JSON bytes (a UTF-8 BOM is allowed); raise :class:`CatalogFileError` if malformed."""
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    try:
        return _parse(data, name, progress)
    except orjson.JSONDecodeError as exc:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as bad:
            line, column = _position(data, bad.start)
            raise CatalogFileError(name, "invalid JSON: the file is not valid UTF-8",
                                   line, column) from None
        line, column = _position(data, exc.pos) if exc.pos <= len(data) else (exc.lineno,
                                                                                exc.colno)
        raise CatalogFileError(name, f"invalid JSON: {exc.msg}", line, column) from None


def read_catalog_file(path: PathArg, progress: bool = False) -> object:
    """Read and decode a catalog file (``"-"`` reads standard input).

    With ``progress`` and a terminal on standard error, a file of at least
    :data:`PROGRESS_THRESHOLD` bytes shows a progress bar while it is read and a spinner while
    it is parsed. Raises :class:`CatalogFileError` when the file cannot be read or is not JSON.
    """
    name = _display(path)
    show = progress and sys.stderr.isatty()
    try:
        if os.fspath(path) == STDIO:
            data = sys.stdin.buffer.read()
            show = False
        else:
            with open(path, "rb") as stream:
                size = os.fstat(stream.fileno()).st_size
                show = show and size >= PROGRESS_THRESHOLD
                data = _read_all(stream, size, name, show)
    except OSError as exc:
        raise CatalogFileError(name, f"cannot read: {exc.strerror or exc}") from None
    return decode_catalog_bytes(data, name, progress=show)


def encode_catalog(document: object) -> bytes:
    """The stable file form of ``document``: 2-space indent, key order kept, final newline."""
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def write_catalog_file(path_or_stdout: PathArg, document: object) -> None:
    """Write ``document`` (``"-"``: standard output) atomically, via a temporary file.

    Raises :class:`CatalogFileError` when the file cannot be written.
    """
    data = encode_catalog(document)
    if os.fspath(path_or_stdout) == STDIO:
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:
            sys.stdout.write(data.decode("utf-8"))
        else:
            sys.stdout.flush()
            buffer.write(data)
        sys.stdout.flush()
        return
    target = Path(path_or_stdout)
    temp: str | None = None
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                    dir=target.parent)
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        # mkstemp creates 0600; keep an existing file's mode, else the usual 0644.
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        os.chmod(temp, mode)
        os.replace(temp, target)
        temp = None
    except OSError as exc:
        raise CatalogFileError(str(target), f"cannot write: {exc.strerror or exc}") from None
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)
