"""`make run`: seeds the demo organization, then runs the web server, a Celery worker and beat in the foreground,
together, and says where to go once all three are up (their start-up banners scroll the first lines away).

Ctrl-C (or SIGTERM) stops all three; so does any one of them exiting, with its exit code. A shell's `cmd &`
would not do: background jobs of a non-interactive shell ignore SIGINT, so Ctrl-C would leave the server running.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def commands(*, port: str) -> dict[str, list[str]]:
    python = sys.executable
    celery = str(Path(python).with_name("celery"))
    return {
        "worker": [celery, "-A", "config", "worker", "--loglevel=INFO", "--concurrency=2"],
        "beat": [celery, "-A", "config", "beat", "--loglevel=INFO"],
        "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
    }


def web_is_up(port: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


def banner(*, port: str, sign_ins: str) -> str:
    return (f"\nmailbind is running at http://127.0.0.1:{port}/  (web, worker and beat are up; Ctrl-C stops them)\n"
            f"{sign_ins}\n")


def main() -> int:
    port = os.environ.get("PORT", "8000")
    stopping = False
    seeded = subprocess.run([sys.executable, "manage.py", "seed_demo"],  # noqa: S603 - our own fixed command
                            capture_output=True, text=True, check=True)
    sign_ins = seeded.stdout.strip()
    print(sign_ins, flush=True)
    # The worker and beat touch a file here once ready (config/celery.py); the web server answers /healthz.
    ready = Path(tempfile.mkdtemp(prefix="mailbind-ready-"))
    env = {**os.environ, "MAILBIND_READY_DIR": str(ready)}

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # Own sessions: a Ctrl-C reaches this supervisor only, which then stops each child in order.
    processes = {
        name: subprocess.Popen(cmd, start_new_session=True, env=env)  # noqa: S603 - our own fixed commands
        for name, cmd in commands(port=port).items()
    }
    exited = None
    announced = False
    try:
        while not stopping and exited is None:
            exited = next((name for name, p in processes.items() if p.poll() is not None), None)
            if not announced and {"worker", "beat"} <= {p.name for p in ready.iterdir()} and web_is_up(port):
                print(banner(port=port, sign_ins=sign_ins), flush=True)
                announced = True
            time.sleep(0.3)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 20
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(ready, ignore_errors=True)
    if exited is not None and not stopping:
        print(f"mailbind: the {exited} process exited ({processes[exited].returncode}); stopped the others.",
              file=sys.stderr)
        return processes[exited].returncode or 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
