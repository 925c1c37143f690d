"""Apache Kafka 4 from Maven Central jars: one KRaft broker+controller on loopback."""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path

from pipeline import kafka
from pipeline.config import Settings
from pipeline.errors import ServiceError
from pipeline.stack import maven
from pipeline.stack.process import ManagedProcess, wait_until

KAFKA_VERSION = "4.4.0"  # keep equal to kafka.version in maven/kafka/pom.xml


def home(settings: Settings) -> Path:
    return (settings.state_dir / "kafka").resolve()


def properties_file(settings: Settings) -> Path:
    return home(settings) / "server.properties"


def process(settings: Settings) -> ManagedProcess:
    return ManagedProcess("kafka", settings.state_dir.resolve() / "run", marker=str(properties_file(settings)))


def address(settings: Settings) -> str:
    host, port = settings.kafka_host_port
    return f"{host}:{port}"


SASL_USER = "newsflow"


def sasl_address(settings: Settings) -> str:
    """The SASL_PLAINTEXT listener (mechanism PLAIN, user `SASL_USER`): client port + 2, loopback only.

    It lets the pipeline's SASL settings be exercised against the real broker; the pipeline itself
    uses the plain listener.
    """
    host, port = settings.kafka_host_port
    return f"{host}:{port + 2}"


def _sasl_password_file(settings: Settings) -> Path:
    return home(settings) / "sasl.password"


def _ensure_sasl_password(settings: Settings) -> str:
    file = _sasl_password_file(settings)
    if not file.exists():
        file.parent.mkdir(parents=True, exist_ok=True)
        file.touch(mode=0o600)
        file.chmod(0o600)
        file.write_text(secrets.token_urlsafe(18))
    return file.read_text().strip()


def sasl_password(settings: Settings) -> str:
    """The password of `SASL_USER`, made once when the broker is first configured (under its state folder)."""
    file = _sasl_password_file(settings)
    if not file.exists():
        raise ServiceError(f"no SASL password at {file}: the local broker of this state folder was never started")
    return file.read_text().strip()


def version(settings: Settings) -> str | None:
    return KAFKA_VERSION if process(settings).pid() is not None and kafka.ping(settings) else None


def render_properties(settings: Settings) -> str:
    host, port = settings.kafka_host_port
    controller = f"{host}:{port + 1}"
    sasl = sasl_address(settings)
    # Only the broker's own admin and `SASL_USER` exist; the password never leaves the state folder.
    jaas = (
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" '
        f'password="{secrets.token_urlsafe(18)}" user_{SASL_USER}="{_ensure_sasl_password(settings)}";'
    )
    lines = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": controller,
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{controller},SASL_PLAINTEXT://{sasl}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{controller},SASL_PLAINTEXT://{sasl}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "sasl.enabled.mechanisms": "PLAIN",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config": jaas,
        "log.dirs": str(home(settings) / "data"),
        "auto.create.topics.enable": "false",
        "num.partitions": str(settings.topic_partitions),
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "6",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "min.insync.replicas": "1",
        "group.initial.rebalance.delay.ms": "0",
        "group.min.session.timeout.ms": "1000",
        "message.max.bytes": str(kafka.MAX_MESSAGE_BYTES),
        "replica.fetch.max.bytes": str(kafka.MAX_MESSAGE_BYTES),
        "num.io.threads": "4",
        "num.network.threads": "2",
        "log.retention.hours": "168",
        "log.segment.bytes": str(256 * 1024 * 1024),
    }
    return "".join(f"{key}={value}\n" for key, value in lines.items())


def _java(settings: Settings, lib: Path, main: str, *args: str) -> list[str]:
    return java_command(lib, settings.kafka_heap, main, *args)


def java_command(lib: Path, heap: str, main: str, *args: str) -> list[str]:
    """`main` of the broker jars in `lib` on a JVM with at most `heap` (e.g. `512m`)."""
    return [
        "java",
        "-Xms128m",
        f"-Xmx{heap}",
        "-XX:+UseSerialGC",  # the leanest collector; a single small broker needs no more
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={maven.MAVEN_DIR / 'kafka' / 'log4j2.xml'}",
        "-cp",
        f"{lib}/*",
        main,
        *args,
    ]


def start(settings: Settings) -> None:
    proc = process(settings)
    if proc.pid() is None:
        proc.run_dir.mkdir(parents=True, exist_ok=True)
        lib = maven.build("kafka", ["dependency:copy-dependencies"], settings.cache_dir, proc.log_file)
        home(settings).mkdir(parents=True, exist_ok=True)
        props = properties_file(settings)
        props.touch(mode=0o600)
        props.chmod(0o600)  # it holds the SASL password
        props.write_text(render_properties(settings))
        format_storage(lib, settings.kafka_heap, home(settings) / "cluster.id", props, proc, standalone=True)
        proc.start(_java(settings, lib, "kafka.Kafka", str(props)), env=dict(os.environ), cwd=home(settings))
    wait_until(lambda: kafka.ping(settings), timeout_s=120, proc=proc, service="Kafka")


def ensure_cluster_id(lib: Path, heap: str, cluster_id_file: Path) -> str:
    """The cluster id in `cluster_id_file`, made by Kafka's storage tool the first time."""
    if not cluster_id_file.exists():
        cluster_id_file.parent.mkdir(parents=True, exist_ok=True)
        out = subprocess.run(
            java_command(lib, heap, "kafka.tools.StorageTool", "random-uuid"),
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise ServiceError(f"Kafka storage tool failed: {out.stderr.strip()[-500:]}")
        cluster_id_file.write_text(out.stdout.strip().splitlines()[-1])
    return cluster_id_file.read_text().strip()


def format_storage(
    lib: Path, heap: str, cluster_id_file: Path, props: Path, proc: ManagedProcess, *, standalone: bool
) -> None:
    """Format KRaft storage once; `-g` makes it a no-op when already formatted. The cluster id is made once
    into `cluster_id_file` (shared by every broker of a cluster). `standalone`: a dynamic quorum of this one
    node (`controller.quorum.bootstrap.servers`); else the static `controller.quorum.voters` of the properties."""
    cluster_id = ensure_cluster_id(lib, heap, cluster_id_file)
    with open(proc.log_file, "ab") as log:
        result = subprocess.run(
            java_command(
                lib,
                heap,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(props),
                *(["--standalone"] if standalone else []),
                "-g",
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    if result.returncode != 0:
        raise ServiceError(f"formatting Kafka storage failed; see {proc.log_file}\n{proc.log_tail()}")
