"""Rotating the App Certificate without a restart: ``--app-certificate-file``, its watch and SIGHUP.

In-process servers (uvicorn in a thread, as tests/test_server.py) show the file watch, a malformed file
refused, a Kubernetes Secret's symlink swap, and the log redaction learning the new certificate; server
processes (tests/processes.py) show SIGHUP with one worker and with two, and a shorter run of
benchmarks/rotation.py: 32 connections with the certificate swapped halfway, no request failing, every
token signed by exactly one certificate, and the new one only from one reload interval after the swap.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")
pytest.importorskip("starlette")

from agora_token import AccessToken2  # noqa: E402
from agora_token.server import ConfigError, Settings  # noqa: E402

from .common import APP_ID, CERT, OTHER_CERT  # noqa: E402
from .processes import SERVE, WAIT, run, server_env, serving, stop  # noqa: E402
from .test_server import Captured, error, logs, ok, running  # noqa: E402, F401  (logs: a fixture)

pytestmark = pytest.mark.thread_unsafe  # files, processes, signals and the process-wide log guard
ROOT = Path(__file__).resolve().parent.parent
POSIX = os.name == "posix"
LINUX = sys.platform.startswith("linux")


def _rotation() -> ModuleType:
    """benchmarks/rotation.py, loaded from its file: the load and the verdict the suite shares with it."""
    spec = importlib.util.spec_from_file_location("rotation_benchmark", ROOT / "benchmarks" / "rotation.py")
    if spec is None or spec.loader is None or not (ROOT / "benchmarks" / "rotation.py").is_file():
        pytest.skip("benchmarks/ is not beside the tests")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _signer(token: str) -> str:
    """ "old" (CERT) or "new" (OTHER_CERT): which certificate signed ``token``; fails if neither did."""
    signer = AccessToken2.parse(token).signed_by(CERT, secondary_certificate=OTHER_CERT)
    assert signer is not None, "the token is signed with neither certificate"
    return "old" if signer == "primary" else "new"


def _rtm(client: Any, url: str) -> str:
    return _signer(ok(client.get(url + "/rtm/bob/"))["rtmToken"])


def _until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.05)


# --------------------------------------------------------------------------------------------------
# configuration


def test_the_certificate_file_is_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "cert"
    path.write_text(f"  {CERT}\n")
    settings = Settings.from_env({"APP_ID": APP_ID, "APP_CERTIFICATE_FILE": str(path)})
    assert (settings.app_certificate, settings.app_certificate_file) == (CERT, str(path))
    assert settings.certificate_reload == 5.0
    relative = Settings.from_env({"APP_ID": APP_ID, "AGORA_TOKEN_CERTIFICATE_RELOAD": "0.5"},
                                 certificate_file=os.path.relpath(path))  # fmt: skip
    assert relative.app_certificate_file == str(path) and relative.certificate_reload == 0.5
    assert CERT not in repr(settings)


@pytest.mark.parametrize(
    "content, env, says",
    [
        (CERT, {"APP_CERTIFICATE": CERT}, "give the App Certificate once: APP_CERTIFICATE_FILE or APP_CERTIFICATE"),
        (CERT[:-1] + "z", {}, "is malformed: app_certificate must be 32 hexadecimal characters"),
        ("\n", {}, "is empty"),
        (None, {}, "cannot read the App Certificate file"),
        ("\xff", {}, "is larger than 4096 bytes"),
        (CERT, {"AGORA_TOKEN_CERTIFICATE_RELOAD": "-1"}, "AGORA_TOKEN_CERTIFICATE_RELOAD must be a number of seconds"),
    ],
)  # fmt: skip
def test_a_bad_certificate_file_is_refused_by_name(tmp_path: Path, content: Any, env: dict[str, str], says: str
                                                   ) -> None:  # fmt: skip
    path = tmp_path / "cert"
    if content == "\xff":
        path.write_bytes(b"0" * 5000)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=says) as info:
        Settings.from_env({"APP_ID": APP_ID, "APP_CERTIFICATE_FILE": str(path), **env})
    assert CERT[:-1] not in str(info.value)


def test_serve_refuses_a_bad_certificate_file_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "cert"
    path.write_text("not a certificate")
    done = run([sys.executable, "-c", SERVE, "--app-certificate-file", str(path)], server_env(APP_ID=APP_ID))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"agora-token serve: the App Certificate file {str(path)!r} is malformed: app_certificate "
                           "must be 32 hexadecimal characters (got 17 characters)\n")  # fmt: skip
    done = run([sys.executable, "-c", SERVE, "--app-certificate-file", str(path), "--certificate-reload", "-2"],
               server_env(APP_ID=APP_ID))  # fmt: skip
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    path.write_text(CERT)
    done = run([sys.executable, "-c", SERVE, "--app-certificate-file", str(path)],
               server_env(APP_ID=APP_ID, APP_CERTIFICATE=CERT))  # fmt: skip
    says = "give the App Certificate once: --app-certificate-file or APP_CERTIFICATE, not both"
    assert done.stderr == f"agora-token serve: {says}\n"


# --------------------------------------------------------------------------------------------------
# the watch, in-process


def test_a_changed_file_is_used_within_the_interval_and_a_bad_one_is_refused(
    tmp_path: Path,
    logs: Captured,  # noqa: F811
) -> None:
    path = tmp_path / "cert"
    path.write_text(CERT)
    settings = Settings.from_env({"APP_ID": APP_ID, "AGORA_TOKEN_CERTIFICATE_RELOAD": "0.2"},
                                 certificate_file=str(path))  # fmt: skip
    with running(settings) as (url, app), httpx.Client(timeout=WAIT) as client:
        assert _rtm(client, url) == "old"
        # A malformed file: refused with a log line, the old certificate stays.
        path.write_text(OTHER_CERT[:20])
        _until(lambda: any("App Certificate in use stays" in line for line in logs.lines))
        assert _rtm(client, url) == "old"
        # A good one, written in place: in use within the interval.
        path.write_text(OTHER_CERT + "\n")
        _until(lambda: app.state.certificate.value == OTHER_CERT, 2.0)
        assert _rtm(client, url) == "new"
        # The redaction learned the new certificate, and still knows the old one.
        for secret in (CERT, OTHER_CERT, OTHER_CERT.upper()):
            error(client.get(f"{url}/rtc/{secret}/publisher/uid/x/"), 400)
    text = "\n".join(logs.lines)
    assert "the App Certificate file changed: signing with the new App Certificate from" in text
    assert f"the App Certificate file {str(path)!r} is malformed: app_certificate must be 32 hexadecimal" in text
    assert text.count("[REDACTED]") >= 3
    assert CERT.lower() not in text.lower() and OTHER_CERT not in text.lower() and OTHER_CERT[:20] not in text


@pytest.mark.skipif(not POSIX, reason="symlinks as the kubelet makes them")
def test_a_kubernetes_secret_update_swaps_a_symlink_and_is_seen(tmp_path: Path) -> None:
    volume = _rotation().SecretVolume(str(tmp_path), CERT)
    settings = Settings.from_env({"APP_ID": APP_ID, "AGORA_TOKEN_CERTIFICATE_RELOAD": "0.2"},
                                 certificate_file=volume.path)  # fmt: skip
    with running(settings) as (url, app), httpx.Client(timeout=WAIT) as client:
        assert _rtm(client, url) == "old"
        volume.replace(OTHER_CERT)
        _until(lambda: app.state.certificate.value == OTHER_CERT, 2.0)
        assert _rtm(client, url) == "new"


def test_without_a_file_there_is_nothing_to_watch() -> None:
    with running(Settings(app_id=APP_ID, app_certificate=CERT)) as (url, app):
        assert app.state.certificate.path is None
        assert app.state.certificate.reload("SIGHUP") is False and app.state.certificate.poll() is False


# --------------------------------------------------------------------------------------------------
# SIGHUP and load, in server processes


def _env() -> dict[str, str]:
    return server_env(APP_ID=APP_ID)


def _hangup_ready(pid: int) -> bool:
    """Whether ``pid`` catches SIGHUP and has it unblocked in its main thread (Linux: /proc/PID/status)."""
    try:
        fields = dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                      if ":\t" in line)  # fmt: skip
    except OSError:
        return False
    bit = 1 << (signal.SIGHUP - 1)
    return bool(int(fields["SigCgt"], 16) & bit) and not int(fields["SigBlk"], 16) & bit


def _wait_for_workers(supervisor: int, count: int) -> None:
    """Until ``count`` children of ``supervisor`` have their app's SIGHUP handler in place (they have started)."""

    def ready() -> bool:
        # The supervisor's children include multiprocessing's resource tracker, which catches nothing.
        children = [int(e) for e in os.listdir("/proc") if e.isdigit() and _parent(int(e)) == supervisor]
        return sum(_hangup_ready(child) for child in children) == count

    _until(ready, WAIT)


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


@pytest.mark.skipif(not LINUX, reason="POSIX signals; reads the process table in /proc")
@pytest.mark.parametrize("workers", [1, 2])
def test_sighup_rereads_the_file_in_every_worker_and_keeps_serving(tmp_path: Path, workers: int) -> None:
    path = tmp_path / "cert"
    path.write_text(CERT)
    args = ["--workers", str(workers), "--app-certificate-file", str(path), "--certificate-reload", "0"]
    with serving(args, _env()) as (proc, url), httpx.Client(timeout=WAIT) as client:
        # Every worker up first: a worker that starts while the file is malformed cannot start at all
        # (it has no certificate to keep), and uvicorn then stops the server.
        if workers > 1:
            _wait_for_workers(proc.pid, workers)
        else:
            _until(lambda: _hangup_ready(proc.pid), WAIT)
        assert {_rtm(client, url) for _ in range(6)} == {"old"}
        path.write_text("0" * 31)  # malformed: every worker refuses it and keeps the old one
        proc.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        assert {_rtm(client, url) for _ in range(6)} == {"old"}
        path.write_text(OTHER_CERT)
        proc.send_signal(signal.SIGHUP)
        # Every worker: fresh connections land on either; each must sign with the new certificate.
        _until(lambda: {_signer(ok(httpx.get(url + "/rtm/bob/", headers={"Connection": "close"}))["rtmToken"])
                        for _ in range(8)} == {"new"})  # fmt: skip
        _, stderr = stop(proc)
    assert proc.returncode == 0, stderr
    assert stderr.count("SIGHUP: signing with the new App Certificate") == workers
    assert stderr.count("must be 32 hexadecimal characters (got 31 characters); the App Certificate in use stays") \
        == workers  # fmt: skip
    assert "Traceback" not in stderr and CERT.lower() not in stderr.lower() and OTHER_CERT not in stderr


@pytest.mark.skipif(not POSIX, reason="symlinks and SIGHUP")
@pytest.mark.parametrize("mode", ["file", "sighup"])
def test_rotation_under_load(tmp_path: Path, mode: str) -> None:
    """The benchmark's assertions in a few seconds: 32 connections, the certificate swapped halfway."""
    rotation = _rotation()
    volume = rotation.SecretVolume(str(tmp_path), rotation.OLD_CERTIFICATE)
    reload = 0.5
    workers, interval = ("1", str(reload)) if mode == "file" else ("2", "0")
    args = ["--workers", workers, "--app-certificate-file", volume.path, "--certificate-reload", interval,
            "--no-access-log"]  # fmt: skip
    with serving(args, _env()) as (proc, url):
        if mode == "sighup" and LINUX:
            _wait_for_workers(proc.pid, 2)  # a SIGHUP is held until a worker can take it; this one must count

        def swap() -> None:
            volume.replace(rotation.NEW_CERTIFICATE)
            if mode == "sighup":
                proc.send_signal(signal.SIGHUP)

        counts = rotation.hammer(url, swap, connections=32, duration=4.0, grace=reload)
        stop(proc)
    assert counts.problems == [], counts.lines()
    assert counts.failed == 0 and counts.neither == 0 and counts.both == 0 and counts.old_after_grace == 0
    assert counts.old > 0 and counts.new > 0 and counts.after_grace > 0
    assert counts.requests == counts.old + counts.new
