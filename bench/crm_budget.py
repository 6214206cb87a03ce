"""How much of Fenxiang's call budget a CRM sync uses, with the real budget enforced.

Generates a world of N customers, serves it with the CRM simulator enforcing Fenxiang's real
budget (100 calls / 20 s per query endpoint, token endpoint 10 / min) and syncs every default
CRM object with tap-fxiaoke (its default budgets come from tap_fxiaoke/vendor.yaml).

    uv run python bench/crm_budget.py --customers 2000 [--seed 7] [--window-seconds 20]

Figures (one JSON line):
- ``calls``: query calls the simulator saw; ``rejections``: calls it refused as over the limit
  (target: 0 - the hub itself never exceeds the vendor's limit);
- ``budget_share``: calls made / calls allowed over the windows the sync was budget-bound in
  (every complete window since the first call; the last, partial window is when the work ran
  out, not budget left unused). Target >= 0.90;
- ``rate_share``: calls / (100 x elapsed / 20 s) - the plain average rate against the budget's
  rate (above 1 is possible: a sliding window admits a full burst at the start);
- ``min_elapsed_s`` vs ``elapsed_s``: the least time the budget permits for that many calls
  and the time taken; ``budget_wait_s``: time the tap's pacer spent waiting for a slot.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import time

from connectors.tap_fxiaoke.tap import TapFxiaoke
from simulators.common import RateLimiter, RateRule
from simulators.credentials import CRM
from simulators.crm import CALL_LIMIT, TOKEN_PATH
from simulators.generator import generate
from simulators.server import SimulatorServer

QUERY_PATH = "/cgi/crm/v2/data/query"
MAX_CALLS = 100


class _Counter(io.TextIOBase):
    """stdout sink counting Singer RECORD lines (the records are not kept)."""

    def __init__(self) -> None:
        self.records = 0

    def write(self, text: str) -> int:
        self.records += text.count('"type":"RECORD"') + text.count('"type": "RECORD"')
        return len(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--window-seconds", type=float, default=20.0,
                        help="the query budget's window (20 = Fenxiang's real one)")
    args = parser.parse_args()
    window = args.window_seconds

    world, _truth = generate(seed=args.seed, customers=args.customers)
    records_in_world = sum(len(v) for v in world["crm"].values())
    rules = [RateRule(TOKEN_PATH, 10, 60, CALL_LIMIT), RateRule("/data/query", MAX_CALLS, window, CALL_LIMIT)]
    with SimulatorServer(world, rate_limits={"crm": rules}) as sim:
        state = sim.sims["crm"]
        stamps: list[float] = []
        limiter = RateLimiter(rules)
        check = limiter.check

        def timed_check(path: str, key: str):
            if QUERY_PATH in path:
                stamps.append(time.monotonic())
            return check(path, key)

        limiter.check = timed_check  # type: ignore[method-assign]
        state.limiter = limiter
        config = {
            "base_url": sim.urls["crm"], "app_id": CRM.app_id, "app_secret": CRM.app_secret,
            "permanent_code": CRM.permanent_code, "current_open_user_id": CRM.current_open_user_id,
        }
        if window != 20.0:
            config["rate_limits"] = [
                {"name": "token", "match": TOKEN_PATH, "max_calls": 10, "window_seconds": 60},
                {"name": "query", "match": "/data/query", "max_calls": MAX_CALLS,
                 "window_seconds": window, "per_path": True},
            ]
        sink = _Counter()
        started = time.monotonic()
        with contextlib.redirect_stdout(sink):
            tap = TapFxiaoke(config=config, parse_env_config=False)
            tap.sync_all()
        took = time.monotonic() - started
        calls = state.calls[QUERY_PATH]
        rejections = sum(state.rejections.values())

    elapsed = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
    full_windows = int(elapsed // window)
    bound_end = stamps[0] + full_windows * window
    in_bound = sum(1 for s in stamps if s < bound_end)
    figures = {
        "customers": args.customers,
        "records_in_world": records_in_world,
        "records_synced": sink.records,
        "window_seconds": window,
        "calls": calls,
        "rejections": rejections,
        "elapsed_s": round(elapsed, 2),
        "sync_s": round(took, 2),
        "min_elapsed_s": round(window * math.floor((calls - 1) / MAX_CALLS), 2),
        "budget_bound_windows": full_windows,
        "calls_in_those_windows": in_bound,
        "budget_share": round(in_bound / (full_windows * MAX_CALLS), 3) if full_windows else None,
        "rate_share": round(calls / (MAX_CALLS * elapsed / window), 3) if elapsed else None,
        "budget_wait_s": round(tap.kit.pacer.waited_seconds, 2),
        "budget_waits": tap.kit.pacer.waits,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
