"""Several embedded servers started side by side, and the one client that routes to them.

One llama.cpp server holds one evaluated prefix; of ``SELFINSTRUCT_EMBEDDED_SERVERS`` servers (5 by
default), classification and the two instance templates each keep one (generator/llm/routing.py),
so they stop evicting each other's few-shot blocks, and generation, whose prompts share no prefix,
runs on the other two side by side. The model file is memory-mapped, so its weights are shared
between the processes; each adds its own KV cache and compute buffers. ``logprobs`` servers
(perplexity) are started one at a time as before.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from types import TracebackType

from generator.llm.client import LLMClient
from generator.llm.embedded import EmbeddedServer
from generator.llm.embedded_log import PrefixReuse, combined
from generator.llm.routing import PrefixAffinityClient
from generator.settings import Settings

__all__ = ["EmbeddedServers"]


class EmbeddedServers:
    """Context manager: ``count`` servers (default ``settings.embedded_servers``), launched together,
    ready once entered, all stopped on exit (also when one fails to start)."""

    def __init__(self, settings: Settings, count: int | None = None) -> None:
        count = count or settings.embedded_servers
        # llama.cpp's worker threads spin while they wait: several servers with a thread per core
        # each fight over the cores (bench/tokens.py measured 6.6 ms per prompt token against 1).
        # So the cores are shared out, unless SELFINSTRUCT_EMBEDDED_THREADS says otherwise.
        threads = settings.embedded_threads or (max(1, (os.cpu_count() or 1) // count) if count > 1 else None)
        self.servers = [EmbeddedServer(settings, threads=threads) for _ in range(count)]

    def __enter__(self) -> EmbeddedServers:
        try:
            for server in self.servers:
                server.launch()
            for server in self.servers:
                server.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def client(self, make: Callable[[EmbeddedServer], LLMClient]) -> LLMClient:
        """One client over the servers (``make`` builds each server's own): routed by prompt family."""
        clients = [make(server) for server in self.servers]
        return clients[0] if len(clients) == 1 else PrefixAffinityClient(clients)

    @property
    def reuse(self) -> PrefixReuse | None:
        """Every server's log summed, once they stopped (bench/tokens.py); None before."""
        parts = [s.reuse for s in self.servers if s.reuse is not None]
        return combined(parts) if parts else None
