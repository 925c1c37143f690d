"""Worker processes for fault tests: the real `newsflow worker` command, started, killed and stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import Settings

NEWSFLOW = str(Path(sys.executable).parent / "newsflow")


@dataclass
class Workers:
    settings: Settings
    log_dir: Path
    procs: dict[str, list[subprocess.Popen[bytes]]] = field(default_factory=lambda: {"normalize": [], "index": []})
    started: int = 0
    killed: int = 0

    def start(self, kind: str, count: int = 1) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
        env.update(self.settings.as_env())
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for _ in range(count):
            self.started += 1
            log = open(self.log_dir / f"{kind}-{self.started}.log", "wb")  # noqa: SIM115 - lives with the process
            self.procs[kind].append(
                subprocess.Popen([NEWSFLOW, "worker", kind], env=env, stdout=log, stderr=subprocess.STDOUT)
            )

    def kill9(self, kind: str, index: int) -> None:
        """SIGKILL one worker (no chance to clean up) and start a replacement."""
        proc = self.procs[kind].pop(index)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        self.killed += 1
        self.start(kind)

    def retire(self, kind: str, count: int, timeout_s: float = 60) -> list[int | None]:
        """SIGTERM the `count` newest workers of `kind` (they leave their group cleanly); their exit codes."""
        leaving = [self.procs[kind].pop() for _ in range(count)]
        for proc in leaving:
            proc.send_signal(signal.SIGTERM)
        codes: list[int | None] = []
        for proc in leaving:
            try:
                codes.append(proc.wait(timeout=timeout_s))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes.append(None)
        return codes

    def alive(self) -> dict[str, int]:
        return {kind: sum(p.poll() is None for p in procs) for kind, procs in self.procs.items()}

    def stop(self, timeout_s: float = 60) -> dict[str, list[int | None]]:
        """SIGTERM every worker; return their exit codes (0 = clean shutdown)."""
        for procs in self.procs.values():
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
        codes: dict[str, list[int | None]] = {}
        for kind, procs in self.procs.items():
            codes[kind] = []
            for proc in procs:
                try:
                    codes[kind].append(proc.wait(timeout=timeout_s))
                except subprocess.TimeoutExpired:
                    proc.kill()
                    codes[kind].append(None)
        return codes

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log")))
