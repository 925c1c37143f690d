"""Settings: the one place that reads the environment (`NEWSFLOW_*` variables).

Build a `Settings` once at the edge (a command, a worker's main, a task body) and pass it in.
Defaults match the local stack (`newsflow stack up`) and docker-compose.yml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PIPELINE_VERSION = "0.1.0"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", frozen=True, extra="ignore")

    # Kafka
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    topic_raw: str = "news.raw"
    topic_articles: str = "news.articles"
    topic_deadletter: str = "news.deadletter"
    topic_partitions: int = Field(default=6, ge=1)
    topic_replication: int = Field(default=1, ge=1)
    # min.insync.replicas of our topics, at most replication - 1 so that one broker may always be lost
    topic_min_insync_replicas: int = Field(default=2, ge=1)
    group_normalize: str = "newsflow-normalize"
    group_index: str = "newsflow-index"
    # The article-fetch stage: requests, and requests postponed after a transient failure (partitioned by host)
    topic_fetch: str = "news.fetch"
    topic_fetch_retry: str = "news.fetch.retry"
    group_fetch: str = "newsflow-fetch"
    # How a consumer group shares partitions: cooperative-sticky (KIP-429) moves only the partitions that
    # change owner when a worker joins or leaves; the eager ones (range, roundrobin, sticky) stop every member.
    # All members of a group must use the same protocol.
    kafka_assignment_strategy: Literal["cooperative-sticky", "sticky", "range", "roundrobin"] = "cooperative-sticky"

    # Elasticsearch: one URL, or the nodes of a cluster separated by commas (a request that cannot reach one
    # node goes to the next)
    es_url: str = "http://127.0.0.1:9200"
    es_username: str | None = None
    es_password: SecretStr | None = None
    es_api_key: SecretStr | None = None
    es_ca_file: Path | None = None
    index_alias: str = "news-articles"
    index_version: int = Field(default=1, ge=1)
    index_shards: int = Field(default=1, ge=1)
    index_replicas: int = Field(default=0, ge=0)
    # Stories: copies of one story within this many days (on publication times) share a story_id
    story_window_days: float = Field(default=7.0, gt=0)
    # Story records (the grouping's shared state) of articles published and written longer ago than this are
    # pruned by the maintenance DAG (`newsflow stories prune`); at least the window, so no live copy misses
    # its record. A replay of raw items older than this groups them anew.
    story_record_retention_days: float = Field(default=30.0, gt=0)

    # Workers
    # Workers. A fetch returns once `batch_min_bytes` are waiting or after the stage's wait: under a
    # trickle, batches of a few items cost more per item (requests, commits, bulk calls) than the wait.
    index_batch_size: int = Field(default=500, ge=1)
    index_batch_wait_ms: int = Field(default=200, ge=0)
    normalize_batch_size: int = Field(default=500, ge=1)
    normalize_batch_wait_ms: int = Field(default=100, ge=0)
    batch_min_bytes: int = Field(default=256 * 1024, ge=1)
    # An index worker that is caught up (its poll returned less than a batch) makes what it wrote searchable
    # at once instead of waiting up to a second for the index's periodic refresh, at most once per this many
    # ms; under a backlog (full batches) it leaves it to the periodic refresh. 0: never.
    index_refresh_caught_up_ms: int = Field(default=250, ge=0)

    # Article pages (the fetch stage). A source's `fetch_concurrency` / `fetch_delay_s` override the host limits.
    fetch_batch_size: int = Field(default=50, ge=1)
    fetch_batch_wait_ms: int = Field(default=200, ge=0)
    fetch_threads: int = Field(default=8, ge=1, le=64, description="Pages in flight at once in one fetch worker.")
    fetch_host_concurrency: int = Field(default=2, ge=1, le=16)
    fetch_host_delay_s: float = Field(default=1.0, ge=0)
    fetch_batch_budget_s: float = Field(default=120.0, gt=0, description="Pages not started by then wait for later.")
    fetch_max_page_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    fetch_max_attempts: int = Field(default=8, ge=1, description="Transient failures before a page is dead-lettered.")
    fetch_retry_base_s: float = Field(default=30.0, gt=0)
    fetch_retry_max_s: float = Field(default=6 * 3600.0, gt=0)
    fetch_short_chars: int = Field(default=400, ge=0, description="`auto`: content shorter than this is a teaser.")
    robots_cache_s: float = Field(default=86_400.0, ge=0)
    page_index: str = "news-pages"
    # Sitemap sources: how deep index files may nest, how many sitemap files and new pages one poll reads
    sitemap_max_depth: int = Field(default=3, ge=1, le=10)
    sitemap_max_files: int = Field(default=50, ge=1)
    sitemap_max_urls: int = Field(default=1000, ge=1)

    # Search (read API, search page, `newsflow search`). The newsroom's time zone: `from`/`to` dates are
    # its days and times are shown in it. Recency: at equal relevance the newer story ranks first; a
    # story published now scores up to `search_recency_boost` more, halving every half-life (0: off).
    timezone: str = "Asia/Shanghai"
    search_recency_half_life_days: float = Field(default=7.0, ge=0)
    search_recency_boost: float = Field(default=0.2, ge=0, le=10)

    # Maintenance DAG: fail its run when a consumer group lags more, or more items were dead-lettered in 24 h
    max_lag: int = Field(default=10_000, ge=0)
    max_recent_deadletters: int = Field(default=100, ge=0)

    # Sources and polling
    sources: Path = Path("sources.yaml")
    state_dir: Path = Path(".stack")
    user_agent: str = f"newsflow/{PIPELINE_VERSION} (+news ingestion; polite polling)"
    http_connect_timeout_s: float = Field(default=5.0, gt=0)
    http_total_timeout_s: float = Field(default=30.0, gt=0)
    max_feed_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_item_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    max_items_per_poll: int = Field(default=5000, ge=1)
    max_poll_seconds: float = Field(default=120.0, gt=0)
    # git sources: the longest any one git command (a fetch, reading posts) may run before it is stopped
    git_timeout_s: float = Field(default=600.0, gt=0)

    # Local stack
    cache_dir: Path = Path.home() / ".cache" / "newsflow"
    dags_folder: Path = Path("dags")
    airflow_port: int = 8080
    es_heap: str = "1g"
    kafka_heap: str = "512m"

    # Local cluster (`newsflow stack up --cluster`): brokers on consecutive ports from the Kafka address above
    # (controllers on port + 100 + i), Elasticsearch nodes on consecutive ports from the Elasticsearch address
    # (transport on port + 100 + i). Heaps sized so that the cluster runs beside the single stack on 2 cores.
    cluster_brokers: int = Field(default=3, ge=1, le=5)
    cluster_es_nodes: int = Field(default=3, ge=1, le=5)
    cluster_kafka_heap: str = "320m"
    cluster_es_heap: str = "448m"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone name such as Asia/Shanghai or UTC") from None
        return value

    @field_validator("story_record_retention_days")
    @classmethod
    def _retention_covers_window(cls, value: float, info: ValidationInfo) -> float:
        window = info.data.get("story_window_days")
        if window is not None and value < window:
            raise ValueError(f"{value:g} days is shorter than the story window ({window:g} days)")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def index_name(self) -> str:
        return f"{self.index_alias}-v{self.index_version}"

    @property
    def fetch_topics(self) -> tuple[str, str]:
        return self.topic_fetch, self.topic_fetch_retry

    @property
    def story_records_index(self) -> str:
        """The story grouping's shared state: one record per article (fingerprint and story)."""
        return f"{self.index_alias}-story-records"

    @property
    def stories_index(self) -> str:
        """One document per story of two or more articles: its size, first-seen article and members."""
        return f"{self.index_alias}-stories"

    @property
    def kafka_host_port(self) -> tuple[str, int]:
        first = self.kafka_bootstrap_servers.split(",")[0].strip()
        host, _, port = first.rpartition(":")
        return host or "127.0.0.1", int(port)

    @property
    def es_urls(self) -> list[str]:
        return [url.strip() for url in self.es_url.split(",") if url.strip()] or [self.es_url]

    @property
    def es_host_port(self) -> tuple[str, int]:
        parts = urlsplit(self.es_urls[0])
        return parts.hostname or "127.0.0.1", parts.port or 9200

    @property
    def topics(self) -> tuple[str, str, str]:
        return self.topic_raw, self.topic_articles, self.topic_deadletter

    def as_env(self) -> dict[str, str]:
        """These settings as `NEWSFLOW_*` variables (paths made absolute), for child processes."""
        env: dict[str, str] = {}
        for name, value in self:
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            elif isinstance(value, Path):
                value = value.expanduser().resolve()
            env[f"NEWSFLOW_{name.upper()}"] = str(value)
        return env

    def redacted(self) -> dict[str, object]:
        """Settings as a dict safe to print or log: secrets shown as '**********'."""
        return {k: ("**********" if isinstance(v, SecretStr) else v) for k, v in self}
