"""The `newsflow` command. Errors print as one clear line (exit 1), never a traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from pipeline import logs
from pipeline.config import Settings
from pipeline.errors import ConfigError, NewsflowError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsflow", description="News ingestion: sources -> Kafka -> Elasticsearch.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    stack = sub.add_parser("stack", help="the local Kafka, Elasticsearch and Airflow")
    stack.add_argument("action", choices=["up", "down", "status"])
    stack.add_argument(
        "--cluster",
        action="store_true",
        help="up: NEWSFLOW_CLUSTER_BROKERS Kafka brokers and NEWSFLOW_CLUSTER_ES_NODES Elasticsearch nodes (3 and 3) "
        "instead of one of each; status: show the cluster's members even when it is down",
    )

    sub.add_parser("topics", help="create the Kafka topics if missing").add_argument("action", choices=["init"])
    index = sub.add_parser("index", help="the search index: create it, or rebuild it as the next version")
    index.add_argument("action", choices=["init", "reindex"])
    index.add_argument("--from-index", action="store_true", help="reindex: copy the current index, not the topic")
    index.add_argument("--delete-old", action="store_true", help="reindex: delete the previous index after the swap")

    poll = sub.add_parser("poll", help="poll sources once and push new items to Kafka")
    poll.add_argument("source_ids", nargs="*", metavar="SOURCE_ID")
    poll.add_argument("--all", action="store_true", help="every enabled source")
    poll.add_argument("--force", action="store_true", help="push everything the source lists, even if unchanged")
    poll.add_argument("--dry-run", action="store_true", help="fetch and parse, push nothing")

    worker = sub.add_parser("worker", help="run a stage's consumer worker, or every stage in one process (all)")
    worker.add_argument("kind", choices=["fetch", "normalize", "index", "all"])
    worker.add_argument(
        "--until-idle", type=float, metavar="SECONDS", help="exit after this long with no messages (all: in any stage)"
    )
    worker.add_argument("--metrics-port", type=int, default=0, metavar="N", help="serve Prometheus /metrics (0: off)")
    worker.add_argument("--metrics-host", default="127.0.0.1", help="address for /metrics (default: loopback only)")

    exporter = sub.add_parser(
        "exporter", help="serve Prometheus metrics of source health (poll state), consumer-group lag and dead letters"
    )
    exporter.add_argument("--port", type=int, default=9108, help="port for /metrics (default 9108)")
    exporter.add_argument("--host", default="127.0.0.1", help="address for /metrics (default: loopback only)")

    search = sub.add_parser("search", help="full-text search of the index")
    search.add_argument("query")
    search.add_argument("--json", action="store_true", help="print the hits' documents as a JSON array")
    search.add_argument("--size", type=int, default=10)

    serve = sub.add_parser("serve", help="the read API and search page over HTTP (docs at /docs)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    serve.add_argument("--port", type=int, default=8000)

    sources = sub.add_parser("sources", help="the sources file, each source's polling health, what a source gives")
    sources.add_argument("action", choices=["list", "status", "check"])
    sources.add_argument("source_id", nargs="?", metavar="SOURCE_ID", help="check: the source to check")
    sources.add_argument("--json", action="store_true", help="check: print the rows as JSON")

    stories = sub.add_parser("stories", help="the story grouping's shared state")
    stories.add_argument("action", choices=["prune"])
    stories.add_argument(
        "--older-than-days",
        type=float,
        metavar="D",
        help="prune: records of articles published and grouped this long ago (default "
        "NEWSFLOW_STORY_RECORD_RETENTION_DAYS, at least the story window)",
    )

    deadletter = sub.add_parser("deadletter", help="inspect and replay dead letters")
    deadletter.add_argument("action", choices=["list", "replay"])
    deadletter.add_argument("--stage", choices=["poll", "fetch", "normalize", "index"])
    deadletter.add_argument("--since", metavar="T", help="ISO time (UTC if no zone) or an age like 30m, 2h, 7d")
    deadletter.add_argument("--json", action="store_true", help="list: print the letters as JSON lines")
    deadletter.add_argument("--limit", type=int, default=100, help="list: at most this many (newest)")

    bench = sub.add_parser("bench", help="measure every part of the pipeline on the local stack (fresh topics, index)")
    bench.add_argument("--articles", type=int, default=20_000, metavar="N", help="corpus size (default 20000)")
    bench.add_argument("--json", metavar="PATH", help="also write every figure, versions and settings as JSON")
    bench.add_argument("--seed", type=int, default=1, metavar="S", help="random seed of the corpus (default 1)")
    bench.add_argument("--freshness-seconds", type=float, default=30.0, metavar="S", help="freshness window (30)")
    bench.add_argument(
        "--no-pinned",
        action="store_true",
        help="skip the run with Elasticsearch pinned to one core and the pipeline to the other",
    )
    bench.add_argument(
        "--profile-workers",
        metavar="DIR",
        help="record the one-worker drain's workers with py-spy (raw stacks kept in DIR, top frames printed)",
    )

    evaluate = sub.add_parser(
        "eval",
        help="measure quality offline: extraction against expected text, search against judged queries, "
        "story grouping against labels",
    )
    evaluate.add_argument("target", choices=["extraction", "search", "stories"])
    evaluate.add_argument(
        "--pages", metavar="DIR", help="extraction: folder with pages.json (default tests/fixtures/pages)"
    )
    evaluate.add_argument(
        "--split", choices=["all", "dev", "held-out"], default="all", help="extraction: which pages (all)"
    )
    evaluate.add_argument(
        "--extractors",
        metavar="A,B",
        help="extraction, comma-separated: ours, trafilatura, trafilatura-no-comments, "
        "rs-trafilatura, resiliparse (default all; those not installed are reported as such)",
    )
    evaluate.add_argument("--repeat", type=int, default=3, metavar="N", help="extraction: runs per page, fastest (3)")
    evaluate.add_argument("--summary", action="store_true", help="extraction: only the summary, not each page")
    evaluate.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    evaluate.add_argument("--judgments", type=Path, metavar="FILE", help="search: the judgment file (JSON)")
    evaluate.add_argument("--alias", help="search: use this existing alias instead of indexing the corpus afresh")
    evaluate.add_argument("--keep", action="store_true", help="search: keep the evaluation index (alias printed)")
    evaluate.add_argument(
        "--rankings", action="store_true", help="search: print each query's first ten hits and grades"
    )
    evaluate.add_argument(
        "--fail-under",
        type=float,
        metavar="X",
        help="search: exit 1 if nDCG@10 < X, or a query of an abbreviation, alias or ticker misses its stories",
    )
    evaluate.add_argument(
        "--labels", type=Path, default=Path("tests/fixtures/stories/labels.json"), help="stories: the labelled set"
    )
    evaluate.add_argument("--corpus", type=Path, default=Path("../shared/data"), help="stories: folder of post folders")
    evaluate.add_argument("--batch-size", type=int, default=20, metavar="N", help="stories: articles per batch (20)")
    evaluate.add_argument(
        "--shuffle", type=int, metavar="SEED", help="stories: posts in a random order (seeded), not by publication time"
    )

    bench_dags = sub.add_parser(
        "bench-dags", help="measure DAG parsing and scheduling for thousands of generated sources (own Airflow)"
    )
    bench_dags.add_argument("--sources", type=int, nargs="+", default=[1000, 10_000], metavar="N", help="sizes")
    bench_dags.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    bench_dags.add_argument("--no-server", action="store_true", help="DagBag figures only, no Airflow server")
    bench_dags.add_argument("--port", type=int, default=18793, help="port of the measurement's own Airflow")

    sub.add_parser("demo", help="the main job: stack up, poll the sample sources, normalize, index, search")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logs.configure(verbose=args.verbose)
    try:
        settings = _settings()
        return _dispatch(args, settings)
    except NewsflowError as exc:
        print(f"newsflow: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("newsflow: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        service = _unreachable(exc, settings)
        if service is None:
            raise
        hint = "is the stack up? (newsflow stack status)"
        print(f"newsflow: error: {service} is not reachable ({exc}); {hint}", file=sys.stderr)
        return 1


def _unreachable(exc: BaseException, settings: Settings) -> str | None:
    """The service a command could not reach, when that is what `exc` says (by the client's exception type,
    looked up by name so that a command that never talks to the service does not import its client)."""
    kind = type(exc)
    if kind.__name__ == "ConnectionError" and kind.__module__.startswith("elastic_transport"):
        return f"Elasticsearch at {settings.es_url}"
    if kind.__name__ == "NoBrokersAvailable" and kind.__module__.startswith("kafka"):
        return f"Kafka at {settings.kafka_bootstrap_servers}"
    return None


def _eval_search(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.evaluation.search_eval import command as evaluate

    if args.judgments is None:
        raise ConfigError("eval search needs --judgments FILE (tests/fixtures/search/search-judgments.json)")
    return evaluate(
        settings,
        args.judgments,
        alias=args.alias,
        keep=args.keep,
        json_path=Path(args.json) if args.json else None,
        fail_under=args.fail_under,
        rankings=args.rankings,
    )


def _prune_stories(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.maintenance import prune_story_records

    days = settings.story_record_retention_days if args.older_than_days is None else args.older_than_days
    if days < settings.story_window_days:
        window = settings.story_window_days
        raise ConfigError(f"--older-than-days {days:g} is shorter than the story window ({window:g} days)")
    deleted = prune_story_records(settings, retention_days=days)
    print(f"story records pruned: {deleted} (articles published and grouped more than {days:g} days ago)")
    return 0


def _settings() -> Settings:
    """Settings from the environment; a bad value is one line naming its variable."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "NEWSFLOW_" + "_".join(str(part) for part in first["loc"]).upper()
        raise ConfigError(f"{name}: {str(first['msg']).removeprefix('Value error, ')}") from None


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline import commands

    if args.command == "stack":
        return commands.stack(settings, args.action, clustered=args.cluster)
    if args.command == "topics":
        return commands.topics_init(settings)
    if args.command == "index" and args.action == "reindex":
        from pipeline.reindex import command as reindex

        return reindex(settings, from_index=args.from_index, delete_old=args.delete_old)
    if args.command == "index":
        return commands.index_init(settings)
    if args.command == "poll":
        return commands.poll(settings, args.source_ids, all_sources=args.all, force=args.force, dry_run=args.dry_run)
    if args.command == "worker":
        return commands.worker(
            settings, args.kind, args.until_idle, metrics_port=args.metrics_port, metrics_host=args.metrics_host
        )
    if args.command == "exporter":
        return commands.exporter(settings, port=args.port, host=args.host)
    if args.command == "search":
        return commands.search(settings, args.query, as_json=args.json, size=args.size)
    if args.command == "sources" and args.action == "check":
        return commands.sources_check(settings, args.source_id, as_json=args.json)
    if args.command == "sources":
        return commands.sources(settings, args.action)
    if args.command == "deadletter":
        return commands.deadletter(
            settings, args.action, stage=args.stage, since=args.since, as_json=args.json, limit=args.limit
        )
    if args.command == "serve":
        from pipeline.api.server import serve

        return serve(settings, host=args.host, port=args.port)
    if args.command == "bench":
        from pipeline.bench.command import bench

        return bench(
            settings,
            articles=args.articles,
            seed=args.seed,
            freshness_s=args.freshness_seconds,
            json_path=args.json,
            pinned=not args.no_pinned,
            profile_dir=args.profile_workers,
        )
    if args.command == "eval":
        if args.target == "search":
            return _eval_search(args, settings)
        if args.target == "stories":
            from pipeline.stories.evaluation import command as evaluate_stories

            return evaluate_stories(
                settings, args.labels, args.corpus, batch_size=args.batch_size, shuffle=args.shuffle
            )
        from pipeline.bench.extraction_eval import command as evaluate

        return evaluate(
            pages=args.pages,
            split=args.split,
            extractors=args.extractors,
            repeat=args.repeat,
            per_page=not args.summary,
            json_path=args.json,
        )

    if args.command == "stories":
        return _prune_stories(args, settings)
    if args.command == "bench-dags":
        from pipeline.bench.dags import bench_dags

        return bench_dags(settings, counts=args.sources, json_path=args.json, server=not args.no_server, port=args.port)
    if args.command == "demo":
        from pipeline.demo import run_demo

        return run_demo(settings)
    raise NewsflowError(f"unknown command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
