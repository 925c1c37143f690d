from __future__ import annotations

import pytest

from pipeline.config import Settings


def test_defaults_match_the_local_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("NEWSFLOW_"):
            monkeypatch.delenv(name)
    settings = Settings()
    assert settings.kafka_host_port == ("127.0.0.1", 9092)
    assert settings.es_host_port == ("127.0.0.1", 9200)
    assert settings.topics == ("news.raw", "news.articles", "news.deadletter")
    assert settings.index_name == "news-articles-v1"


def test_environment_overrides_and_secrets_stay_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSFLOW_KAFKA_BOOTSTRAP_SERVERS", "k1:19092,k2:19092")
    monkeypatch.setenv("NEWSFLOW_ES_PASSWORD", "hunter2-secret")
    monkeypatch.setenv("NEWSFLOW_KAFKA_SASL_PASSWORD", "kafka-secret")
    monkeypatch.setenv("NEWSFLOW_TOPIC_PARTITIONS", "12")
    settings = Settings()
    assert settings.kafka_host_port == ("k1", 19092)
    assert settings.topic_partitions == 12
    shown = repr(settings) + str(settings.redacted()) + str(settings)
    assert "hunter2-secret" not in shown and "kafka-secret" not in shown
    assert settings.as_env()["NEWSFLOW_ES_PASSWORD"] == "hunter2-secret"  # children still get it


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSFLOW_TOPIC_PARTITIONS", "0")
    with pytest.raises(ValueError, match="topic_partitions"):
        Settings()
