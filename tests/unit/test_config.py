from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from pipeline import cli
from pipeline.config import Settings
from pipeline.errors import ConfigError


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


def test_the_newsroom_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSFLOW_TIMEZONE", raising=False)
    assert Settings().timezone == "Asia/Shanghai" and str(Settings().zone) == "Asia/Shanghai"
    monkeypatch.setenv("NEWSFLOW_TIMEZONE", "Europe/London")
    assert Settings().zone.utcoffset(datetime(2022, 7, 1)) == timedelta(hours=1)


def test_a_bad_setting_is_one_line_naming_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSFLOW_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ConfigError) as caught:
        cli._settings()
    assert str(caught.value) == (
        "NEWSFLOW_TIMEZONE: 'Mars/Olympus' is not a time zone name such as Asia/Shanghai or UTC"
    )
    monkeypatch.setenv("NEWSFLOW_TIMEZONE", "UTC")
    monkeypatch.setenv("NEWSFLOW_SEARCH_RECENCY_BOOST", "-1")
    with pytest.raises(ConfigError, match="NEWSFLOW_SEARCH_RECENCY_BOOST: Input should be greater than or equal to 0"):
        cli._settings()
