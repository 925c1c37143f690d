"""The Kafka settings for a secured cluster (SASL PLAIN), against the local broker's SASL listener."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from pipeline import kafka
from pipeline.config import Settings
from pipeline.emit import KafkaEmitter
from pipeline.errors import ConfigError
from pipeline.stack import kafka_broker
from tests.support.articles import make_article

pytestmark = pytest.mark.services


def _sasl(settings: Settings, password: str) -> Settings:
    return settings.model_copy(
        update={
            "kafka_bootstrap_servers": kafka_broker.sasl_address(settings),
            "kafka_security_protocol": "SASL_PLAINTEXT",
            "kafka_sasl_mechanism": "PLAIN",
            "kafka_sasl_username": kafka_broker.SASL_USER,
            "kafka_sasl_password": SecretStr(password),
        }
    )


def test_the_pipeline_clients_authenticate_and_carry_messages(stack: Settings, isolated: Settings) -> None:
    settings = _sasl(isolated, kafka_broker.sasl_password(stack))
    assert kafka.ensure_topics(settings) == list(settings.topics)
    article = make_article("0123456789abcdef0123456789abcdef", title="SASL 测试")
    emitter = KafkaEmitter(settings)
    try:
        emitter.article(article)
        emitter.flush()
    finally:
        emitter.close()

    consumer = kafka.consumer(settings, settings.group_index, [settings.topic_articles], consumer_timeout_ms=15_000)
    try:
        records = [record for record in consumer]
    finally:
        consumer.close()
    assert [(r.key.decode(), r.value) for r in records] == [(article.id, article.model_dump_json().encode())]


def test_wrong_credentials_are_a_config_error_that_says_so(isolated: Settings) -> None:
    settings = _sasl(isolated, "not-the-password")
    with pytest.raises(ConfigError) as raised, kafka.admin(settings, timeout_ms=5_000):
        pass
    message = str(raised.value)
    assert "refused the credentials" in message and repr(kafka_broker.SASL_USER) in message
    assert "Invalid username or password" in message
    assert "not-the-password" not in message
    assert kafka.ping(settings, timeout_ms=2_000) is False


def test_the_broker_password_is_readable_by_its_owner_only(stack: Settings) -> None:
    assert len(kafka_broker.sasl_password(stack)) >= 20
    for file in (kafka_broker.home(stack) / "sasl.password", kafka_broker.properties_file(stack)):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file


def test_a_worker_with_wrong_credentials_stops_with_one_clear_line(stack: Settings, tmp_path: Path) -> None:
    settings = _sasl(stack, "not-the-password").model_copy(update={"state_dir": tmp_path})
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")} | settings.as_env()
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "worker", "normalize"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1].startswith("newsflow: error: Kafka at ")
    assert "refused the credentials of user 'newsflow'" in done.stderr
    assert "Traceback" not in done.stderr
