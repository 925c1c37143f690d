"""The C allocator's and the garbage collector's settings for a long-running worker process.

A worker's threads (Kafka's sender and heartbeat, the metrics server) each get a malloc arena of their
own by default, and glibc keeps freed memory at the top of each heap until it grows past a threshold
that rises with every large block freed. Both hold a worker's resident set above what it uses: with at
most two arenas and a fixed 4 MiB trim threshold, a normalize worker draining a backlog peaked ~15 MB
lower (285 -> 270 MB in one measurement) at no cost the benchmark could see. Call once, before the
worker starts any thread (glibc only; elsewhere nothing changes).

The cyclic garbage collector runs a young-generation pass whenever 700 more container objects have been
allocated than freed (CPython's default), and every tenth of those also passes over older objects, more
rarely over all of them. A normalize worker allocates far more than that per batch (models, decoded answers,
story records): draining 10,000 bench items it ran about 1,250 collections for 0.63 to 0.87 s of CPU (three
runs), 130 for 0.10 to 0.11 s with a first threshold of 20,000. Objects freed by their reference count, almost
all of them, are freed at once either way; only garbage in reference cycles waits longer. Peak RSS draining
8,000 items (`VmHWM`): 258 MB before, 260 after (one run each, about ±10 MB from run to run).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
M_ARENA_MAX = -8
ARENA_MAX = 2
TRIM_THRESHOLD_BYTES = 4 * 1024 * 1024
COLLECTOR_THRESHOLDS = (20_000, 20, 10)  # gc.set_threshold: young pass, then every 20th, every 10th of those


def tune_allocator() -> bool:
    """Apply the settings above; False where the C library is not glibc (or refuses them)."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    applied: bool = mallopt(M_ARENA_MAX, ARENA_MAX) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1
    if not applied:
        log.debug("mallopt refused the worker's allocator settings")
    return applied


def tune_collector() -> None:
    """Collect cyclic garbage less often (`COLLECTOR_THRESHOLDS`, above); once per worker process."""
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
