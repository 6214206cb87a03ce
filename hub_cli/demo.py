"""``hub demo``: a whole hub run against the bundled simulators, on the embedded warehouse."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml
from rich.console import Console

SOURCE_NAMES = ["crm", "u8", "finance", "wecom"]


@dataclass
class DemoOutcome:
    out_dir: Path
    world_path: Path
    result: object  # orchestration.run.PipelineResult


def demo_sources(urls: dict[str, str]) -> tuple[dict, dict[str, str]]:
    """The sources file for the simulators, with secrets as ``${VAR}`` references, and those
    variables' values (the simulators' published demo credentials)."""
    from simulators import credentials as c

    secrets = {
        "HUB_DEMO_CRM_APP_SECRET": c.CRM.app_secret,
        "HUB_DEMO_CRM_PERMANENT_CODE": c.CRM.permanent_code,
        "HUB_DEMO_U8_APP_SECRET": c.U8.app_secret,
        "HUB_DEMO_FINANCE_CLIENT_SECRET": c.FINANCE.client_secret,
        "HUB_DEMO_WECOM_CORPSECRET": c.WECOM.corpsecret,
    }
    sources = {"sources": {
        "crm": {"connector": "fxiaoke", "config": {
            "base_url": urls["crm"], "app_id": c.CRM.app_id, "app_secret": "${HUB_DEMO_CRM_APP_SECRET}",
            "permanent_code": "${HUB_DEMO_CRM_PERMANENT_CODE}", "current_open_user_id": c.CRM.current_open_user_id}},
        "u8": {"connector": "u8", "config": {
            "base_url": urls["u8"], "from_account": c.U8.from_account, "to_account": c.U8.to_account,
            "app_key": c.U8.app_key, "app_secret": "${HUB_DEMO_U8_APP_SECRET}"}},
        "finance": {"connector": "finance", "config": {
            "base_url": urls["finance"], "client_id": c.FINANCE.client_id,
            "client_secret": "${HUB_DEMO_FINANCE_CLIENT_SECRET}"}},
        "wecom": {"connector": "wecom", "config": {
            "base_url": urls["wecom"], "corpid": c.WECOM.corpid, "corpsecret": "${HUB_DEMO_WECOM_CORPSECRET}"}},
    }}
    return sources, secrets


def run_demo(out: Path, world: Path | None = None, seed: int = 7, customers: int = 60,
             console: Console | None = None):
    """Generate or load a world, serve it, and run the full pipeline as of the world's clock."""
    from orchestration.run import run_pipeline
    from simulators.server import SimulatorServer
    from simulators.world import WorldError, load_world

    console = console or Console()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if world is None:
        from simulators.generator import write

        world, _truth = write(out, seed=seed, customers=customers)
        console.print(f"generated world (seed {seed}, {customers} customers): {world}")
    try:
        loaded = load_world(world)
    except WorldError as exc:
        raise ValueError(str(exc)) from None
    warehouse_url = f"sqlite:///{(out / 'warehouse.db').resolve()}"
    with SimulatorServer(loaded) as server:
        sources, secrets = demo_sources(server.urls)
        os.environ.update(secrets)
        connectors_file = out / "connectors.yaml"
        connectors_file.write_text(yaml.safe_dump(sources, allow_unicode=True, sort_keys=False), encoding="utf-8")
        console.print(f"simulators at {server.base_url}; syncing {', '.join(SOURCE_NAMES)} as of {loaded.now.isoformat()}")
        result = run_pipeline(warehouse_url, str(connectors_file), str(out), SOURCE_NAMES, as_of=loaded.now)
    return DemoOutcome(out, Path(world), result)
