"""gunicorn for the benchmark: started on a free port of 127.0.0.1, always stopped at the end."""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
HOST = "127.0.0.1"
WORKERS = 2
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


@dataclass(frozen=True)
class WorkerMemory:
    pid: int
    rss_mb: float  # resident now
    peak_mb: float  # highest resident size since the worker started


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Server:
    """``gunicorn config.wsgi`` with sync workers, as the CRM is served in production."""

    def __init__(self, *, env: dict[str, str], log_path: Path, workers: int = WORKERS) -> None:
        self.env = env
        self.log_path = log_path
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        command = [str(GUNICORN), "config.wsgi", "-w", str(self.workers), "-b", f"{HOST}:{self.port}"]
        command += ["--timeout", "60", "--graceful-timeout", "5", "--log-level", "warning"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start-up; its log:\n{self.log_tail()}")
            if self._healthy() and len(self.worker_pids()) == self.workers:
                return
            time.sleep(0.25)
        raise RuntimeError(
            f"gunicorn did not answer /healthz within {START_TIMEOUT:.0f} s; its log:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)

    def worker_pids(self) -> list[int]:
        """The worker processes: the children of the gunicorn master."""
        if self.process is None:
            return []
        master = self.process.pid
        pids = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = _status_fields(status)
            except OSError:  # the process ended meanwhile
                continue
            if fields.get("PPid") == str(master):
                pids.append(int(status.parent.name))
        return sorted(pids)

    def worker_memory(self) -> list[WorkerMemory]:
        memory = []
        for pid in self.worker_pids():
            try:
                fields = _status_fields(Path(f"/proc/{pid}/status"))
            except OSError:
                continue
            memory.append(WorkerMemory(pid=pid, rss_mb=_mb(fields["VmRSS"]), peak_mb=_mb(fields["VmHWM"])))
        return memory

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _healthy(self) -> bool:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()


def _status_fields(path: Path) -> dict[str, str]:
    fields = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def _mb(value: str) -> float:
    """``/proc/<pid>/status`` sizes ("123456 kB") in MB."""
    return round(int(value.split()[0]) / 1024, 1)
