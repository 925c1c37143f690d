"""Secrets from settings never reach output: status, logs, poll errors, dead letters."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline import kafka
from pipeline.config import Settings

pytestmark = pytest.mark.services

NEWSFLOW = str(Path(sys.executable).parent / "newsflow")
SECRETS = {
    "NEWSFLOW_ES_PASSWORD": "es-pass-4f9d1c",
    "NEWSFLOW_ES_API_KEY": "es-apikey-77ab02",
    "NEWSFLOW_KAFKA_SASL_PASSWORD": "kafka-pass-e3c8b1",
}


def _run(settings: Settings, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.update(settings.as_env())
    env.update(SECRETS)
    env["NEWSFLOW_ES_USERNAME"] = "elastic"
    out = subprocess.run([NEWSFLOW, "-v", *args], env=env, capture_output=True, text=True, timeout=120, check=False)
    return out.stdout + out.stderr


def test_no_secret_in_any_output(isolated: Settings, tmp_path: Path) -> None:
    # A source that fails (credentials in its URL, a refused address) and one that dead-letters a post.
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "bad.md").write_text("no front matter here")
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        yaml.safe_dump(
            {
                "sources": [
                    {
                        "id": "creds",
                        "type": "feed",
                        "url": "http://user:url-secret-91aa@127.0.0.1:9/feed.xml",
                        "outlet": "o",
                        "category": "c",
                    },
                    {
                        "id": "posts",
                        "type": "jekyll",
                        "path": str(posts),
                        "outlet": "o",
                        "category": "c",
                        "trusted": True,
                    },
                ]
            }
        )
    )
    settings = isolated.model_copy(update={"sources": sources})
    kafka.ensure_topics(settings)
    outputs = [
        _run(settings, "stack", "status"),
        _run(settings, "sources", "list"),
        _run(settings, "poll", "--all"),
        _run(settings, "sources", "status"),
        _run(settings, "deadletter", "list", "--json"),
        _run(settings, "search", "anything"),  # fails: the ES credentials are refused or unused
    ]
    text = "\n".join(outputs) + "".join(p.read_text() for p in (settings.state_dir / "sources").glob("*.json"))
    assert "refused" in outputs[2] and "bad.md" in outputs[2]  # the commands did run
    for secret in [*SECRETS.values(), "url-secret-91aa"]:
        assert secret not in text
