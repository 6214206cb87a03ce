"""RSS and its high-water mark at the phase ends of one full entity resolution (rolled back):
which phase sets the peak (staging, the customer engine, the writes, the contacts).

    python bench/er_phases.py sqlite:///w30k.db

One line per phase: ``VmRSS``/``VmHWM`` (MB), Python's allocated blocks, process CPU seconds.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))  # the checkout it is run from


def _mem() -> dict[str, int]:
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            found[line.split(":")[0]] = int(line.split()[1]) // 1024
    return found


def snap(name: str) -> None:
    """Print this process's memory now, as phase ``name``."""
    print(f"{name:18s} {_mem()} blocks {sys.getallocatedblocks()} t {time.process_time():.1f}", flush=True)


def main() -> None:
    snap("start")
    import mappings.identity.engine as engine_mod
    import mappings.identity.resolve as resolve_mod
    from hub_core.warehouse import make_engine
    from mappings.config import load_mapping

    snap("imports")
    stage, run, contacts = resolve_mod.stage_streaming, engine_mod.Engine.run, resolve_mod.resolve_contacts

    def staged(*a, **k):
        out = stage(*a, **k)
        snap("after staging")
        return out

    def ran(self):
        out = run(self)
        if len(self.recs) > 1000:
            snap("engine end")
        return out

    def resolved_contacts(*a, **k):
        snap("before contacts")
        out = contacts(*a, **k)
        snap("after contacts")
        return out

    resolve_mod.stage_streaming, engine_mod.Engine.run, resolve_mod.resolve_contacts = staged, ran, resolved_contacts
    with make_engine(sys.argv[1]).connect() as conn:
        trans = conn.begin()
        resolve_mod.resolve_customers(conn, load_mapping(), None, full=True)
        trans.rollback()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    snap("end")
    print("cpu", round(usage.ru_utime + usage.ru_stime, 2))


if __name__ == "__main__":
    main()
