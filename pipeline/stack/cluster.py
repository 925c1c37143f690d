"""The layout of a local cluster (`newsflow stack up --cluster`): which member listens where, and the
settings a client needs to use all of them.

Members sit on consecutive loopback ports counted from the configured addresses: with the defaults, brokers
on 9092, 9093, 9094 (KRaft controllers on 9192, 9193, 9194) and Elasticsearch nodes on 9200, 9201, 9202
(transport on 9300, 9301, 9302). Their state lives under `<state dir>/cluster/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Settings
from pipeline.stack.process import ManagedProcess

CONTROLLER_OFFSET = 100  # a broker's controller port, and an Elasticsearch node's transport port, from its own
MAX_REPLICATION = 3  # topics: the usual replication factor once there are enough brokers


def root(settings: Settings) -> Path:
    return (settings.state_dir / "cluster").resolve()


def run_dir(settings: Settings) -> Path:
    return settings.state_dir.resolve() / "run"


@dataclass(frozen=True)
class Broker:
    node_id: int
    host: str
    port: int
    controller_port: int
    home: Path
    run_dir: Path

    @property
    def name(self) -> str:
        return f"kafka-{self.node_id}"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def controller_address(self) -> str:
        return f"{self.host}:{self.controller_port}"

    @property
    def properties(self) -> Path:
        return self.home / "server.properties"

    def process(self) -> ManagedProcess:
        return ManagedProcess(self.name, self.run_dir, marker=str(self.properties))


@dataclass(frozen=True)
class EsMember:
    number: int
    host: str
    http_port: int
    transport_port: int
    home: Path
    run_dir: Path

    @property
    def name(self) -> str:
        return f"elasticsearch-{self.number}"

    @property
    def node_name(self) -> str:
        return f"newsflow-es-{self.number}"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    @property
    def transport_address(self) -> str:
        return f"{self.host}:{self.transport_port}"

    def process(self) -> ManagedProcess:
        return ManagedProcess(self.name, self.run_dir, marker=str(self.home) + "\0")


def brokers(settings: Settings) -> list[Broker]:
    host, port = settings.kafka_host_port
    return [
        Broker(
            node_id=n,
            host=host,
            port=port + n - 1,
            controller_port=port + CONTROLLER_OFFSET + n - 1,
            home=root(settings) / f"kafka-{n}",
            run_dir=run_dir(settings),
        )
        for n in range(1, settings.cluster_brokers + 1)
    ]


def es_members(settings: Settings) -> list[EsMember]:
    host, port = settings.es_host_port
    return [
        EsMember(
            number=n,
            host=host,
            http_port=port + n - 1,
            transport_port=port + CONTROLLER_OFFSET + n - 1,
            home=root(settings) / f"elasticsearch-{n}",
            run_dir=run_dir(settings),
        )
        for n in range(1, settings.cluster_es_nodes + 1)
    ]


def replication(settings: Settings) -> int:
    return min(MAX_REPLICATION, settings.cluster_brokers)


def client_settings(settings: Settings) -> Settings:
    """`settings` pointed at every member of the cluster, with its replication: topics replicated on up to
    three brokers, the index with one replica and a primary shard per node. What the user set explicitly
    (`NEWSFLOW_TOPIC_REPLICATION`, `..._INDEX_REPLICAS`, `..._INDEX_SHARDS`) is kept."""
    chosen = settings.model_fields_set
    update: dict[str, object] = {
        "kafka_bootstrap_servers": ",".join(b.address for b in brokers(settings)),
        "es_url": ",".join(m.url for m in es_members(settings)),
    }
    defaults = {
        "topic_replication": replication(settings),
        "index_replicas": min(1, settings.cluster_es_nodes - 1),
        "index_shards": settings.cluster_es_nodes,
    }
    update.update({name: value for name, value in defaults.items() if name not in chosen})
    return settings.model_copy(update=update)


CLIENT_VARIABLES = ("kafka_bootstrap_servers", "es_url", "topic_replication", "index_replicas", "index_shards")


def client_env(settings: Settings) -> dict[str, str]:
    """The `NEWSFLOW_*` variables that point newsflow at the cluster."""
    client = client_settings(settings)
    return {f"NEWSFLOW_{name.upper()}": str(getattr(client, name)) for name in CLIENT_VARIABLES}


def env_file(settings: Settings) -> Path:
    return settings.state_dir.resolve() / "cluster.env"


def write_env_file(settings: Settings) -> Path:
    """`<state dir>/cluster.env`, for `set -a; . .stack/cluster.env; set +a`."""
    file = env_file(settings)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text("".join(f"{name}={value}\n" for name, value in client_env(settings).items()))
    return file
