"""Render report.html in headless Chromium (when installed) and check the picture is a real page."""

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from quality.report import write_report
from tests.quality.report_seed import seed

CHROMIUM = Path("/usr/bin/chromium")


def _png_rows(path: Path, max_rows: int) -> tuple[int, int, list[bytes]]:
    """Decode the top ``max_rows`` rows of an 8-bit RGB/RGBA PNG without a dependency (a row
    depends only on the rows above it): width, height and raw pixel rows."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels + 1
    rows, previous = [], bytearray(width * channels)
    for y in range(min(height, max_rows)):
        kind, line = raw[y * stride], bytearray(raw[y * stride + 1:(y + 1) * stride])
        for i in range(len(line)):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, rows


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(tmp_path):
    from hub_core.warehouse import open_warehouse

    engine = open_warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    seed(engine, items=40)
    write_report(engine, tmp_path / "out")
    png = tmp_path / "report.png"
    profile = tmp_path / "profile"
    subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={png}",
                    "--window-size=1280,2000", (tmp_path / "out" / "report.html").as_uri()],
                   check=True, capture_output=True, timeout=90)
    shutil.rmtree(profile, ignore_errors=True)
    assert png.stat().st_size > 40_000  # a blank 1280x2000 page is about 12 kB
    width, height, rows = _png_rows(png, max_rows=800)  # header, cards and the first charts
    assert (width, height) == (1280, 2000)
    sample = rows[::20]
    colours = {row[x:x + 3] for row in sample for x in range(0, len(row) - 3, 24)}
    assert len(colours) > 30  # text, cards and chart colours, not a blank or error page
    # the chart palette is on the page (the first rule's blue #1f77b4, antialiasing aside)
    assert any(abs(c[0] - 0x1F) < 8 and abs(c[1] - 0x77) < 8 and abs(c[2] - 0xB4) < 8 for c in colours)
