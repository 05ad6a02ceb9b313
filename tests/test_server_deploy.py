"""Deployment: gunicorn with uvicorn workers (one aggregated /metrics, the access log), and deploy/'s
Dockerfile and Kubernetes manifests (validated offline against the Kubernetes schemas)."""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from .processes import free_port, server_env, serving, stop
from .test_server import APP_ID, CERT, check_rtm, metric_values, ok

httpx = pytest.importorskip("httpx")
DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
# deploy/ travels with a source tree (and the sdist and cibuildwheel's test sources); a copy of the
# tests without it says so instead of failing on an empty list of manifests.
needs_deploy = pytest.mark.skipif(not (DEPLOY / "kubernetes").is_dir(), reason="deploy/ is not beside the tests")


def manifests() -> list[dict[str, Any]]:
    yaml = pytest.importorskip("yaml")
    docs = []
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        docs += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


@needs_deploy
def test_kubernetes_manifests_are_valid() -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    docs = manifests()
    assert sorted(d["kind"] for d in docs) == ["Deployment", "HorizontalPodAutoscaler", "Secret", "Service"]
    for doc in docs:
        kubernetes_validate.validate(doc, "1.30", strict=True)
    # The validator does reject a mistake (a misspelt probe), so the loop above can fail.
    broken = copy.deepcopy(next(d for d in docs if d["kind"] == "Deployment"))
    container = broken["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.30", strict=True)


def _graceful(argv: list[str]) -> float:
    return float(argv[argv.index("--graceful-timeout") + 1])


@needs_deploy
def test_manifests_and_dockerfile_agree() -> None:
    docs = {d["kind"]: d for d in manifests()}
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, re.M).group(1))  # type: ignore[union-attr]
    # The pod runs what the image runs, with the same graceful timeout, and the kubelet waits for it.
    assert container["command"] == cmd
    pre_stop = float(container["lifecycle"]["preStop"]["exec"]["command"][1])
    assert pod["terminationGracePeriodSeconds"] >= pre_stop + _graceful(cmd) + 1
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["livenessProbe"]["httpGet"]["path"] in ("/ping", "/healthz")
    env = {e["name"]: e for e in container["env"]}
    # The certificate is a file of the Secret's volume (updated in place, so rotated without a restart).
    assert "APP_CERTIFICATE" not in env and CERT not in json.dumps(docs)
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    directory, name = env["APP_CERTIFICATE_FILE"]["value"].rsplit("/", 1)
    mount = mounts[directory]
    assert "subPath" not in mount and mount["readOnly"] is True  # a subPath mount is never updated
    secret = volumes[mount["name"]]["secret"]
    assert secret["secretName"] == "agora-token" and {"key": "app-certificate", "path": name} in secret["items"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    hpa = docs["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == docs["Deployment"]["metadata"]["name"]
    assert hpa["metrics"][0]["resource"]["name"] == "cpu"
    assert "cpu" in container["resources"]["requests"]  # utilisation is measured against the request
    # The image: slim base, a numeric non-root user (runAsNonRoot can check it), a health check.
    assert re.search(r"^FROM python:[0-9.]+-slim$", dockerfile, re.M)
    user = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert user and user[-1].isdigit() and int(user[-1]) == pod["securityContext"]["runAsUser"] != 0
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", dockerfile, re.M) and "STOPSIGNAL SIGTERM" in dockerfile


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn runs on Unix only")
def test_gunicorn_two_workers_one_metrics_and_access_log() -> None:
    pytest.importorskip("gunicorn")
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:agora_token.server.gunicorn_conf",
            "--bind", f"127.0.0.1:{port}", "--workers", "2", "--graceful-timeout", "5"]  # fmt: skip
    with serving(argv=argv, env=server_env(APP_ID=APP_ID, APP_CERTIFICATE=CERT), port=port) as (proc, url):
        for i in range(12):  # fresh connections: gunicorn's workers share the socket, so both answer
            check_rtm(ok(httpx.get(f"{url}/rtm/g{i}/", headers={"Connection": "close"}))["rtmToken"], f"g{i}")
        totals = {metric_values(httpx.get(f"{url}/metrics", headers={"Connection": "close"}).text)[
            'agora_token_tokens_issued_total{type="rtm"}'] for _ in range(6)}  # fmt: skip
        _, stderr = stop(proc)
    assert totals == {12.0}, f"each /metrics read must report both workers' sum: {totals}"
    assert proc.returncode == 0, stderr
    access = re.findall(r'"GET /rtm/g\d+/ HTTP/1.1" 200', stderr)
    assert len(access) == 12, stderr[-3000:]
    assert "Traceback" not in stderr and CERT.lower() not in stderr.lower()
