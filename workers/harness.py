"""Real fleet processes for tests and the benchmark: a throwaway redis-server, Celery workers, beat.

Every process runs in its own session (process group), so a test can ``kill -9`` a whole
worker (main process and pool children) and teardown can always reap everything it started.
No pytest import: ``bench/fleet.py`` uses it too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from generator.db.engine import open_database
from generator.db.stats import RoundCounts, round_counts
from generator.db.statuses import RoundStatus
from generator.settings import Settings, load_settings
from generator.testing.services import fresh_postgres_database, port_open
from generator.wiring import ensure_seeded_pool
from workers import control
from workers.app import make_app
from workers.context import WorkerContext
from workers.queues import DEFAULT_WORKER_QUEUES

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _reap(proc: subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL it if it lingers."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait_s)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # pool children that outlived their parent


@dataclass
class RedisServer:
    """A redis-server on ``port`` keeping nothing on disk; ``restart`` simulates a crash (kill -9)."""

    port: int
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.workdir)]
        log = (self.workdir / "redis.log").open("ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 10
        while not port_open("127.0.0.1", self.port):
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.proc is not None:
            _reap(self.proc, grace_s=0.0)
            self.proc = None

    def restart(self, down_s: float = 1.0) -> None:
        self.kill()
        time.sleep(down_s)
        self.start()


@dataclass
class Fleet:
    """Workers and beat of one test; ``env`` points them at the test's Redis, database and endpoint."""

    env: dict[str, str]
    settings: Settings
    logdir: Path
    wc: WorkerContext
    redis: RedisServer
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = (self.logdir / f"{name}.log").open("ab")
        proc = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs[name] = proc
        return proc

    def worker(self, name: str, concurrency: int = 2, *, cli: bool = False, pool: str = "prefork",
               loglevel: str = "INFO", queues: str = ",".join(DEFAULT_WORKER_QUEUES)) -> None:
        """Start a worker: ``celery -A workers.app worker`` (or ``selfinstruct worker`` with ``cli``)."""
        common = ["-c", str(concurrency), "-P", pool, "-n", f"{name}@%h", "--loglevel", loglevel,
                  "-Q", queues]
        if cli:
            args = [str(Path(sys.executable).parent / "selfinstruct"), "worker", *common]
        else:
            args = [sys.executable, "-m", "celery", "-A", "workers.app", "worker", *common,
                    "--without-mingle", "--without-gossip"]
        self._spawn(name, args)

    def beat(self) -> None:
        self._spawn("beat", [sys.executable, "-m", "celery", "-A", "workers.app", "beat",
                             "-s", str(self.logdir / "beat-schedule"), "--loglevel", "INFO"])

    def wait_ready(self, *names: str, timeout_s: float = 60.0) -> None:
        """Wait until every named worker answers a remote-control ping (it is consuming then)."""
        deadline = time.monotonic() + timeout_s
        missing = {f"{name}@{socket.gethostname()}": name for name in names}
        while missing:
            for reply in self.wc.app.control.ping(destination=list(missing), timeout=0.5) or []:
                for hostname in reply:
                    missing.pop(hostname, None)
            for name in list(missing.values()):
                if self.procs[name].poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"worker {name} did not start:\n{self.log(name)[-3000:]}")

    def log(self, name: str) -> str:
        path = self.logdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs_tail(self, chars: int = 2000) -> str:
        return "\n".join(f"--- {n}\n{self.log(n)[-chars:]}" for n in self.procs)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group of ``name`` (main process and its pool children)."""
        os.killpg(self.procs[name].pid, sig)
        self.procs[name].wait(timeout=10)

    def pids(self, name: str) -> list[int]:
        """The pids of the process group of ``name`` (for CPU accounting)."""
        pgid = self.procs[name].pid
        out = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                        out.append(int(entry.name))
        return out

    def stop(self) -> None:
        for proc in self.procs.values():
            _reap(proc)

    def start_round(self, target: int, pool: str = "default", **limits: object) -> int:
        """Open a fleet round (``limits``: budget_tokens, deadline, steering, tag) and tick it."""
        with self.wc.sessions.begin() as session:
            pool_id = ensure_seeded_pool(session, self.settings, pool).id
        return control.start_round(self.wc, pool_id, target, **limits)  # type: ignore[arg-type]

    def counts(self, round_id: int) -> RoundCounts:
        with self.wc.sessions() as session:
            return round_counts(session, round_id)

    def wait_round(self, round_id: int, timeout_s: float) -> RoundCounts:
        deadline = time.monotonic() + timeout_s
        while (counts := self.counts(round_id)).status == RoundStatus.RUNNING:
            if time.monotonic() > deadline:
                raise AssertionError(f"round {round_id} still running: {counts}\n{self.logs_tail()}")
            time.sleep(0.2)
        return counts


RABBITMQ_HOST, RABBITMQ_PORT = "127.0.0.1", 5672


def rabbitmq_missing() -> str | None:
    """Why RabbitMQ tests cannot run here, or None when they can."""
    if shutil.which("rabbitmqctl") is None:
        return "rabbitmqctl is not installed"
    if not port_open(RABBITMQ_HOST, RABBITMQ_PORT):
        return f"RabbitMQ is not reachable on {RABBITMQ_HOST}:{RABBITMQ_PORT} (rabbitmq-server -detached)"
    return None


@contextlib.contextmanager
def rabbitmq_vhost() -> Iterator[str]:
    """A fresh RabbitMQ vhost for guest (so parallel runs never share a queue); yields its amqp:// URL."""
    name = f"si_test_{uuid.uuid4().hex[:12]}"
    ctl = ["rabbitmqctl", "-q"]
    subprocess.run([*ctl, "add_vhost", name], check=True, capture_output=True, timeout=60)
    try:
        subprocess.run([*ctl, "set_permissions", "-p", name, "guest", ".*", ".*", ".*"], check=True,
                       capture_output=True, timeout=60)
        yield f"amqp://guest:guest@{RABBITMQ_HOST}:{RABBITMQ_PORT}/{name}"
    finally:
        subprocess.run([*ctl, "delete_vhost", name], capture_output=True, timeout=60)


@contextlib.contextmanager
def fleet(tmp: Path, llm_base_url: str, broker: str = "redis", **overrides: object) -> Iterator[Fleet]:
    """A fresh PostgreSQL database, a throwaway Redis and a :class:`Fleet` on them; all torn down after.

    ``broker="amqp"`` puts the messages on a fresh RabbitMQ vhost instead (Redis then holds only
    claims, leases and rate limits)."""
    redis_server = RedisServer(free_port(), tmp)
    redis_server.start()
    try:
        with fresh_postgres_database() as db_url, contextlib.ExitStack() as stack:
            brokers: dict[str, object] = {"broker_url": redis_server.url}
            if broker == "amqp":
                brokers = {"broker_url": stack.enter_context(rabbitmq_vhost()), "redis_url": redis_server.url}
            values: dict[str, object] = {
                "database_url": db_url, "llm_base_url": llm_base_url, **brokers,
                "llm_model": "scripted-model", "llm_max_retries": 2, "llm_timeout_s": 20,
                "visibility_timeout_s": 8, "task_time_limit_s": 60, "fleet_tick_s": 2, "fleet_inflight": 4,
                **overrides,
            }
            env = {k: v for k, v in os.environ.items() if not k.startswith("SELFINSTRUCT_")}
            env.update({f"SELFINSTRUCT_{k.upper()}": str(v) for k, v in values.items() if v is not None})
            settings = load_settings(**values)
            open_database(db_url).kw["bind"].dispose()  # migrate once, before any worker starts
            wc = WorkerContext.create(settings, make_app(settings))
            the_fleet = Fleet(env, settings, tmp, wc, redis_server)
            try:
                yield the_fleet
            finally:
                the_fleet.stop()
                wc.sessions.kw["bind"].dispose()
                with contextlib.suppress(Exception):
                    wc.app.pool.force_close_all()
    finally:
        redis_server.kill()
