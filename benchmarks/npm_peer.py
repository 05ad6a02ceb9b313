"""The npm peer row of benchmarks/run.py: npm `agora-token` timed in node by benchmarks/npm_bench.js.

The package is looked for in AGORA_NPM_PEER_DIR (as tests/test_peers.py does), installed there with

    npm install --prefix DIR agora-token@2.0.6

Node times its own loop (process.hrtime around each round of fresh inputs, after warm-up rounds),
so node's start-up is not in the numbers. Every token node returns as a sample is checked here
like the Python rows' tokens (parsed, signature verified, fields as the workload asks).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any, Optional

import impls

HERE = os.path.dirname(os.path.abspath(__file__))
VERSION = "2.0.6"
LABEL = f"npm agora-token {VERSION} (node)"


def locate(directory: Optional[str] = None) -> tuple[Optional[str], str]:
    """(peer directory, "") when node and the package are there, else (None, why not)."""
    node = shutil.which("node")
    if node is None:
        return None, "node is not on PATH"
    directory = directory or os.environ.get("AGORA_NPM_PEER_DIR", "")
    if not directory:
        return None, f"AGORA_NPM_PEER_DIR is not set (npm install --prefix DIR agora-token@{VERSION})"
    package = os.path.join(directory, "node_modules", "agora-token", "package.json")
    try:
        with open(package) as f:
            version = json.load(f).get("version")
    except (OSError, ValueError):
        return (
            None,
            f"agora-token is not installed in {directory} (npm install --prefix {directory} agora-token@{VERSION})",
        )
    if version != VERSION:
        return None, f"{directory} has agora-token {version}, not {VERSION}"
    return directory, ""


def run(directory: str, workloads: list[str], rounds: int, batch: int, warmup: int) -> dict[str, Any]:
    """One node process timing every workload in the given order: {"node": version, "results": {...}}."""
    request = {
        "workloads": workloads, "rounds": rounds, "batch": batch, "warmup": warmup, "first_id": 10_000_001,
        "app_id": impls.APP_ID, "app_certificate": impls.APP_CERTIFICATE, "channel": impls.CHANNEL,
        "expire": impls.EXPIRE, "publisher": impls.PUBLISHER,
    }  # fmt: skip
    env = {**os.environ, "AGORA_NPM_PEER_DIR": directory}
    out = subprocess.run(
        ["node", os.path.join(HERE, "npm_bench.js")], input=json.dumps(request), capture_output=True,
        text=True, env=env, check=True, timeout=3600,
    )  # fmt: skip
    data = json.loads(out.stdout)
    for workload, result in data["results"].items():
        sample = result["sample"]
        x = tuple(sample["input"]) if isinstance(sample["input"], list) else sample["input"]
        impls.check_token(workload, sample["token"], x)
    return data
