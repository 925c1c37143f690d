"""`newsflow serve`: run the read API and search page with uvicorn until Ctrl-C or SIGTERM."""

from __future__ import annotations

from pipeline.config import Settings
from pipeline.errors import ConfigError


def serve(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000) -> int:
    """Serve until stopped. A port that cannot be bound ends it with uvicorn's one-line error (exit 3)."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, not {port}")
    import uvicorn  # only the serving command needs it

    from pipeline.api.app import create_app

    shown = f"[{host}]" if ":" in host else host
    print(f"newsflow: starting the read API on http://{shown}:{port}/ (docs at /docs), alias {settings.index_alias!r}")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", server_header=False)
    return 0
