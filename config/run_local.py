"""`make run`: the web server, a Celery worker and beat in the foreground, together.

Ctrl-C (or SIGTERM) stops all three; so does any one of them exiting, with its exit code. A shell's `cmd &`
would not do: background jobs of a non-interactive shell ignore SIGINT, so Ctrl-C would leave the server running.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def commands(*, port: str) -> dict[str, list[str]]:
    python = sys.executable
    celery = str(Path(python).with_name("celery"))
    return {
        "worker": [celery, "-A", "config", "worker", "--loglevel=INFO", "--concurrency=2"],
        "beat": [celery, "-A", "config", "beat", "--loglevel=INFO"],
        "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
    }


def main() -> int:
    port = os.environ.get("PORT", "8000")
    stopping = False

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # Own sessions: a Ctrl-C reaches this supervisor only, which then stops each child in order.
    processes = {
        name: subprocess.Popen(cmd, start_new_session=True)  # noqa: S603 - our own fixed commands
        for name, cmd in commands(port=port).items()
    }
    exited = None
    try:
        while not stopping and exited is None:
            exited = next((name for name, p in processes.items() if p.poll() is not None), None)
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
    if exited is not None and not stopping:
        print(f"mailbind: the {exited} process exited ({processes[exited].returncode}); stopped the others.",
              file=sys.stderr)
        return processes[exited].returncode or 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
