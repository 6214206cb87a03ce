"""Keep a report's human files in ``report_file`` without ever holding a whole file in memory.

A 100k-customer world's report.html is ~95 MB: inserting it as one bound parameter cost the
report process about three times that (the bytes, the driver's copy, SQLite's record). So the
content goes in a chunk at a time: on SQLite the row is inserted with a zero-filled blob of the
file's size and the bytes are written into it through SQLite's incremental blob I/O; on
PostgreSQL (psycopg) the row is sent with ``COPY ... FROM STDIN (FORMAT BINARY)``, the content's
bytes as they are, chunk by chunk (as hex text the server spent ~0.1 s per 8 MB decoding them),
and TOASTed with lz4 where the server has it: pglz, the default, spent ~0.3 s of the server's CPU
on an 8 MB report.xlsx (a zip: nothing to gain) and ~0.25 s on report.html per report at 10k
customers; lz4 gives up on the one at once and compresses the other better (bench/findings.md,
"Incremental reconcile and report: fixed costs"). The stored bytes are the same either way.
Any other driver gets the plain insert.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

from sqlalchemy import BigInteger, Connection, Integer, func, insert, select, text

from hub_core.schema_api_reports import report_file

CONTENT_TYPES = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_CHUNK = 1 << 20


def _chunks(path: Path):
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            yield chunk


def _described(report_id: int, path: Path) -> dict:
    """The row's columns other than the content, the digest read from the file a chunk at a time."""
    digest, size = hashlib.sha256(), 0
    for chunk in _chunks(path):
        digest.update(chunk)
        size += len(chunk)
    fmt = path.suffix.lstrip(".")
    return {"report_id": report_id, "format": fmt, "name": path.name, "content_type": CONTENT_TYPES[fmt],
            "size_bytes": size, "sha256": digest.hexdigest()}


_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)  # signature, flags, no extension


def _binary_field(column, value) -> bytes:
    """One field of a binary COPY row: its length, then the value in the server's binary form
    (integers by their width, text as UTF-8)."""
    if isinstance(column.type, BigInteger):
        return struct.pack("!iq", 8, value)
    if isinstance(column.type, Integer):
        return struct.pack("!ii", 4, value)
    data = str(value).encode()
    return struct.pack("!i", len(data)) + data


def _toast_compression(conn: Connection) -> tuple[str | None, bool]:
    """This session's TOAST compression and whether the server can do lz4 (14 and later, built
    with it); (None, False) before 14."""
    row = conn.execute(text("SELECT setting, 'lz4' = ANY(enumvals) FROM pg_settings "
                            "WHERE name = 'default_toast_compression'")).first()
    return (row[0], bool(row[1])) if row is not None else (None, False)


def _copy_binary(conn: Connection, row: dict, path: Path) -> None:
    """The row by binary COPY, the content streamed a chunk at a time (its length is known)."""
    driver = conn.connection.driver_connection
    before, lz4 = _toast_compression(conn)
    if lz4:  # this transaction only, and put back after the row
        conn.execute(text("SELECT set_config('default_toast_compression', 'lz4', true)"))
    columns = ", ".join(row) + ", content"
    with driver.cursor() as cur, cur.copy(f"COPY report_file ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(_BINARY_HEADER + struct.pack("!h", len(row) + 1)
                   + b"".join(_binary_field(report_file.c[k], v) for k, v in row.items())
                   + struct.pack("!i", row["size_bytes"]))
        for chunk in _chunks(path):
            copy.write(chunk)
        copy.write(struct.pack("!h", -1))
    if lz4:
        conn.execute(text("SELECT set_config('default_toast_compression', :v, true)"), {"v": before})


def store_file(conn: Connection, report_id: int, path: Path) -> None:
    """Insert the ``report_file`` row of the file at ``path``, its content streamed in."""
    row = _described(report_id, path)
    driver = conn.connection.driver_connection
    if conn.dialect.name == "sqlite" and hasattr(driver, "blobopen"):
        conn.execute(insert(report_file).values(**row, content=func.zeroblob(row["size_bytes"])))
        f = report_file.c
        rowid = conn.execute(select(text("rowid")).select_from(report_file).where(
            f.report_id == report_id, f.format == row["format"])).scalar_one()
        with driver.blobopen("report_file", "content", rowid) as blob:
            for chunk in _chunks(path):
                blob.write(chunk)
    elif conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        _copy_binary(conn, row, path)
    else:
        conn.execute(insert(report_file), row | {"content": path.read_bytes()})
