"""Service settings, read once from the environment (prefix ``SELFINSTRUCT_``) and passed down.

Algorithm knobs (temperatures, thresholds, ...) are not settings: they live in
:mod:`generator.selfinstruct.params` with the papers' defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from generator.errors import ConfigError
from generator.redaction import mask_url_passwords

ENV_PREFIX = "SELFINSTRUCT_"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SEEDS = REPO_ROOT / "seeds" / "seed_tasks.jsonl"

# Database URL scheme as written -> the SQLAlchemy driver the service uses.
DATABASE_SCHEMES = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
}
SUPPORTED_DATABASES = "sqlite:///path/to/file.db or postgresql://user@host:port/dbname"


def scheme_of(url: str) -> str:
    """The scheme of ``url`` (before ``://``), lower-cased; empty when there is none."""
    head, sep, _ = url.partition("://")
    return head.lower() if sep else ""


def check_database_scheme(url: str) -> str:
    """``url`` unchanged when its scheme is supported; raise ValueError (a one-line reason) otherwise."""
    scheme = scheme_of(url)
    if scheme not in DATABASE_SCHEMES:
        shown = f"scheme {scheme!r}" if scheme else "no scheme"
        raise ValueError(f"{shown} is not supported: use {SUPPORTED_DATABASES}")
    return url


class Settings(BaseSettings):
    """Everything the service reads from its environment; see the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    database_url: str = "sqlite:///selfinstruct.db"
    database_connect_timeout_s: float = Field(
        default=10.0, gt=0, description="PostgreSQL: seconds to wait for a connection before giving up."
    )
    # `pool stats` / `pool list` read an up-to-date database with plain DB-API SQL (generator/db/plain),
    # skipping SQLAlchemy's import; 0 sends them through the ORM path like every other command.
    plain_reads: bool = True
    sqlite_busy_timeout_s: float = Field(
        default=30.0, gt=0, description="SQLite: seconds a statement waits for another process's write lock."
    )
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_model: str | None = None
    llm_api: Literal["completions", "chat"] = "completions"
    llm_timeout_s: float = Field(default=120.0, gt=0)
    llm_max_retries: int = Field(default=5, ge=0)
    llm_concurrency: int = Field(default=4, ge=1)
    llm_prompts_per_request: int = Field(default=1, ge=1, le=20)
    llm_price_input_per_mtok: float | None = Field(default=None, ge=0)
    llm_price_output_per_mtok: float | None = Field(default=None, ge=0)
    # Price of prompt tokens served from the endpoint's cache; unset = priced as ordinary input.
    llm_price_cached_input_per_mtok: float | None = Field(default=None, ge=0)
    embedded_threads: int | None = Field(default=None, ge=1)
    embedded_ctx: int = Field(default=2048, ge=512)
    # llama-cpp-python's RAM prompt cache (MiB; 0 = off): evaluated prefixes are kept and reused
    # across requests. Off by default: bench/tokens.py measured it slower on the shared 2-core
    # machine (README, "Tokens and prompt caching").
    embedded_prompt_cache_mb: int = Field(default=0, ge=0)
    # Send the embedded server one request at a time, grouped by stage (generator/rounds/ordering.py);
    # off by default for the same reason.
    embedded_prefix_ordering: bool = False
    embedded_startup_timeout_s: float = Field(default=180.0, gt=0)
    # Embedded server processes; requests go to them by prompt family (generator/llm/routing.py), so
    # each slot keeps one stage's few-shot prefix evaluated, and generation runs on the servers no
    # family holds (README, "Tokens and prompt caching").
    embedded_servers: int = Field(default=5, ge=1, le=8)
    # 0 switches llama.cpp's reuse of the slot's evaluated prefix off (every prompt evaluated whole):
    # the reference arm of bench/tokens.py, not something to run with.
    embedded_prefix_reuse: bool = True
    # InsTag: the embedder of the semantic aggregation (wordllama | sentence-transformers | openai | fake)
    instag_embedder: str = "wordllama"
    instag_embedding_model: str | None = None
    instag_embedding_base_url: str | None = None
    # Steering (issue 14): in-round tag counts come from stored InsTag tags (default; an in-process
    # steered round tags its tasks as they complete) or, only when set, the lexical stand-in tagger.
    steering_tagger: Literal["instag", "lexical"] = "instag"
    # Classification (issue 15): tasks judged in one prompt with a JSON answer (1 = one task per prompt,
    # the paper's). Refused on a completions (base) model unless the agreement with single-task answers
    # has been measured there (bench/tokens.py --classify-agreement) and is given here.
    classify_per_prompt: int = Field(default=1, ge=1, le=20)
    classify_per_prompt_agreement: float | None = Field(default=None, ge=0, le=1)
    broker_url: str | None = None
    result_backend: str | None = None
    redis_url: str | None = None
    rate_limit_rpm: int | None = Field(default=None, ge=1)
    rate_limit_tpm: int | None = Field(default=None, ge=1)
    schedule_file: Path | None = Field(
        default=None, description="Beat schedule (YAML/JSON) of rounds to start; see workers/schedule.py."
    )
    visibility_timeout_s: float = Field(
        default=3600.0, gt=0,
        description="Redis broker: seconds after which a task whose worker died unacknowledged is delivered "
        "again; also how long a work hint stays claimed. Keep it above task_time_limit_s.",
    )
    lease_s: float = Field(
        default=15.0, ge=3,
        description="Fleet: how long a running stage task holds its items without renewing; a heartbeat "
        "thread renews every lease_s/3, and a tick re-sends the work of a task whose lease expired.",
    )
    queue_wait_s: float = Field(
        default=600.0, gt=0,
        description="Fleet: how long a queued (not yet started) message keeps its items claimed; after "
        "that a tick sends the work again (one duplicate per item per queue_wait_s at most).",
    )
    task_time_limit_s: float = Field(
        default=900.0, gt=0,
        description="Hard time limit of one fleet task; the soft limit comes min(30 s, 10%) earlier.",
    )
    fleet_inflight: int = Field(
        default=8, ge=1, description="Generate requests a fleet round keeps in flight at most."
    )
    fleet_tick_s: float = Field(
        default=10.0, gt=0, description="Seconds between beat ticks that re-derive queued work from the DB."
    )
    seeds_path: Path = DEFAULT_SEEDS
    benepar_model: str | None = Field(
        default=None,
        description="A benepar 0.2 model directory; when set, the report's verb-noun parse uses benepar "
        "(constituency) instead of spaCy dependencies. Nothing is downloaded.",
    )
    reward_scorer: str | None = Field(
        default=None,
        description="'module:factory' returning a reward scorer (generator.analysis.quality.RewardScorer); "
        "unset: rewards and the InstructMining rule are stored as null.",
    )
    native: bool = Field(
        default=True,
        description="Use the novelty index's C kernel when it was built; 0 takes the numpy path "
        "(same answers).",
    )
    api_token: SecretStr | None = Field(
        default=None, description="Bearer token of the HTTP API's write endpoints; unset: they are off."
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        return check_database_scheme(value)

    @field_validator("llm_base_url", "broker_url", "redis_url")
    @classmethod
    def _url_like(cls, value: str | None) -> str | None:
        if value is not None and value.strip() and "://" not in value:
            raise ValueError("must be a URL such as http://host:port/v1")
        return value or None

    @property
    def embedded(self) -> bool:
        """True when no endpoint is configured: the CLI then starts the local llama.cpp server."""
        return self.llm_base_url is None

    @property
    def prompts_per_request(self) -> int:
        """Prompts sent in one request (and tasks in one fleet message): ``llm_prompts_per_request``
        for a completions endpoint; 1 for chat (one conversation per request) and for the embedded
        llama.cpp server (it takes a single prompt per request)."""
        if self.embedded or self.llm_api != "completions":
            return 1
        return self.llm_prompts_per_request

    @property
    def api_key(self) -> str:
        """The key for the endpoint: ``SELFINSTRUCT_LLM_API_KEY``, else ``OPENAI_API_KEY``, else a dummy."""
        return self.llm_api_key or os.environ.get("OPENAI_API_KEY") or "not-needed"

    @property
    def rate_limit_redis_url(self) -> str | None:
        """Where fleet-wide rate limits are shared: ``redis_url``, else a redis broker's URL."""
        if self.redis_url:
            return self.redis_url
        if self.broker_url and self.broker_url.startswith("redis"):
            return self.broker_url
        return None


def load_settings(**overrides: object) -> Settings:
    """Read the settings once; any invalid value raises one ConfigError naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            value = os.environ.get(ENV_PREFIX + field.upper(), err.get("input"))
            shown = mask_url_passwords(value) if isinstance(value, str) else value
            message = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{ENV_PREFIX}{field.upper()}={shown!r}: {mask_url_passwords(message)}")
        raise ConfigError("invalid setting " + "; ".join(problems)) from None
