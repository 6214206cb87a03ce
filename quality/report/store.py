"""Keep a report's human files in ``report_file`` without ever holding a whole file in memory.

A 100k-customer world's report.html is ~95 MB: inserting it as one bound parameter cost the
report process about three times that (the bytes, the driver's copy, SQLite's record). So the
content goes in a chunk at a time: on SQLite the row is inserted with a zero-filled blob of the
file's size and the bytes are written into it through SQLite's incremental blob I/O; on
PostgreSQL (psycopg) the row is sent with ``COPY ... FROM STDIN``, the bytea as hex, chunk by
chunk. Any other driver gets the plain insert.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import Connection, func, insert, select, text

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


def _copy_field(value) -> str:
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


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
        columns = ", ".join(row) + ", content"
        with driver.cursor() as cur, cur.copy(f"COPY report_file ({columns}) FROM STDIN") as copy:
            copy.write("\t".join(_copy_field(v) for v in row.values()) + "\t\\\\x")
            for chunk in _chunks(path):
                copy.write(chunk.hex())
            copy.write("\n")
    else:
        conn.execute(insert(report_file), row | {"content": path.read_bytes()})
