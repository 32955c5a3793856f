"""`make run`'s supervisor: web, worker and beat start together, it says where to go once they are up, and Ctrl-C
stops every one of them."""
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.servers.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


def processes_with_marker(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if f"MAILBIND_RUN_MARKER={marker}".encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.integration
def test_it_says_where_to_go_once_all_three_are_up_and_ctrl_c_stops_them(tmp_path):
    marker = uuid.uuid4().hex
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
               MAILBIND_VAR_DIR=str(tmp_path / "var"), PORT=str(port), MAILBIND_RUN_MARKER=marker,
               PYTHONUNBUFFERED="1")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    output = tmp_path / "output.txt"
    with output.open("w") as sink:
        supervisor = subprocess.Popen([sys.executable, "-m", "config.run_local"], cwd=ROOT, env=env,
                                      stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while "mailbind is running at" not in output.read_text():
            assert time.monotonic() < deadline, "no banner once web, worker and beat were up:\n" + output.read_text()
            assert supervisor.poll() is None, "the supervisor exited early:\n" + output.read_text()
            time.sleep(0.3)
        # Said last, after the worker's and beat's start-up lines: the URL and the demo sign-ins.
        banner = output.read_text().rpartition("mailbind is running at")[2]
        assert f"http://127.0.0.1:{port}/" in banner and "admin@demo.test" in banner and "user@demo.test" in banner
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            assert response.status == 200
        assert len(processes_with_marker(marker)) >= 4  # supervisor, web, worker (+ its pool), beat
        supervisor.send_signal(signal.SIGINT)  # what Ctrl-C sends
        assert supervisor.wait(timeout=40) == 0
        deadline = time.monotonic() + 10
        while processes_with_marker(marker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert processes_with_marker(marker) == []
        assert "No hostname was supplied" not in output.read_text()
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
        for pid in processes_with_marker(marker):
            os.kill(pid, signal.SIGKILL)
