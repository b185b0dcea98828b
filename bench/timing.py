"""The interleaved median timer every benchmark uses, and the machine facts the results are recorded with.

``interleaved`` times several implementations of the same thing round-robin: each round calls every case once, in
an order shuffled from round to round (seeded), so a burst of load from other processes hits all cases alike, the
ratio of their medians stays fair even when absolute times drift, and no case always runs right after the same
other case (a slow reference that evicts the caches would otherwise always hand its successor a cold start).

Each sample is timed twice: by the CPU time of the calling thread (``time.thread_time``), the figure the results
report, and by the wall clock. With ``torch.set_num_threads(1)`` every operation, backward passes included, runs on
the calling thread, so its CPU time is the work done; on a machine shared with other processes the wall clock also
counts the time the thread waited for a core, which is what makes wall-clock timings drift.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime
import gc
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass
from importlib import metadata

__all__ = [
    "Skip",
    "Stats",
    "interleaved",
    "keep_freed_memory",
    "load",
    "machine",
    "paired_ratio",
    "ratio",
    "release_memory",
]


class Skip(Exception):
    """Raised by a benchmark that cannot run here (e.g. its snippet has not landed); the message goes on the page."""


@dataclass(frozen=True)
class Stats:
    """Seconds per call of one case: median and quartiles of thread CPU time over ``repeats`` samples of ``number``
    calls each, and the median of the wall-clock time of the same samples."""

    median: float
    q1: float
    q3: float
    repeats: int
    number: int
    wall_median: float
    samples: tuple[float, ...] = ()  # CPU seconds per call, in round order: two cases pair up round by round

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["samples"] = [float(f"{x:.4g}") for x in self.samples]
        return d


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name and sys.platform.startswith("linux") else None
    except OSError:
        return None


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse instead of returning it to the kernel.

    By default glibc gives large blocks (tensors of megabytes) back to the kernel when they are freed, so the next
    call page-faults its memory in again, and which implementation pays for that depends on the order of its
    allocations rather than on its arithmetic. With mmap off (M_MMAP_MAX = 0) and a 2 GB trim threshold, repeated
    calls reuse warm memory, as a caching allocator (PyTorch's on GPUs, jemalloc, tcmalloc) would.
    Returns whether the setting took (False off glibc).
    """
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt"):
        return False
    M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
    return bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1))


def release_memory() -> None:
    """Give the memory kept by ``keep_freed_memory`` back to the kernel (between benchmarks)."""
    gc.collect()
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def _time(fn: Callable[[], object], n: int) -> tuple[float, float]:
    """(thread CPU seconds, wall seconds) of ``n`` calls."""
    cpu, wall = time.thread_time(), time.perf_counter()
    for _ in range(n):
        fn()
    return time.thread_time() - cpu, time.perf_counter() - wall


def _calibrate(fn: Callable[[], object], min_sample_s: float) -> int:
    """How many calls make one sample last at least ``min_sample_s`` of CPU time."""
    number = 1
    while True:
        if _time(fn, number)[0] >= min_sample_s or number >= 1 << 16:
            return number
        number *= 2


def interleaved(
    cases: Mapping[str, Callable[[], object]],
    repeats: int = 30,
    warmup: int = 3,
    min_sample_s: float = 0.02,
    repeats_of: Mapping[str, int] | None = None,
    own_number: Collection[str] = (),
) -> dict[str, Stats]:
    """Median seconds per call of each case, from ``repeats`` interleaved rounds after ``warmup`` rounds.

    Args:
        cases: name -> a zero-argument callable doing one unit of work.
        repeats: timed rounds; every round calls each case once, in a shuffled order.
        warmup: untimed rounds first (allocator, caches, lazy initialisation); a case slower than 0.1 s
            is called once only.
        min_sample_s: fast cases repeat their call within one sample until it lasts this long. The compared
            cases all get the same number of calls per sample (the largest any of them needs).
        repeats_of: fewer rounds for the named slow cases (they sit out the later rounds).
        own_number: cases calibrated on their own (a much slower reference such as a naive loop).

    Returns:
        name -> Stats, in seconds per single call.
    """
    names = list(cases)
    repeats_of = dict(repeats_of or {})
    last: dict[str, float] = {}
    for _ in range(warmup):
        for name in names:
            if last.get(name, 0.0) > 0.1:
                continue  # a slow case is warm after one call; more would only cost time
            last[name] = _time(cases[name], 1)[0]
    number = {
        name: 1 if last.get(name, 0.0) >= min_sample_s else _calibrate(cases[name], min_sample_s) for name in names
    }
    shared = max((number[name] for name in names if name not in own_number), default=1)
    number = {name: number[name] if name in own_number else shared for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    wall: dict[str, list[float]] = {name: [] for name in names}
    rng = random.Random(0)
    order = list(names)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for r in range(repeats):
            rng.shuffle(order)
            for name in order:
                if r >= repeats_of.get(name, repeats):
                    continue
                c, w = _time(cases[name], number[name])
                cpu[name].append(c / number[name])
                wall[name].append(w / number[name])
            gc.collect()
    finally:
        if gc_was_enabled:
            gc.enable()
    out = {}
    for name in names:
        xs = sorted(cpu[name])
        q = statistics.quantiles(xs, n=4) if len(xs) >= 2 else [xs[0]] * 3
        out[name] = Stats(
            statistics.median(xs), q[0], q[2], len(xs), number[name], statistics.median(wall[name]), tuple(cpu[name])
        )
    return out


def ratio(slow: Stats | float, fast: Stats | float) -> float:
    """``slow / fast`` of the medians: how many times faster ``fast`` is."""
    a = slow.median if isinstance(slow, Stats) else slow
    b = fast.median if isinstance(fast, Stats) else fast
    return a / b


def paired_ratio(slow: Stats, fast: Stats) -> float:
    """Median over rounds of ``slow / fast`` measured in the same round (robust to load that drifts)."""
    n = min(len(slow.samples), len(fast.samples))
    return statistics.median(a / b for a, b in zip(slow.samples[:n], fast.samples[:n], strict=True))


def load() -> list[float]:
    """The 1, 5 and 15 minute load averages (other processes competing for the cores)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict[str, object]:
    """What the numbers were measured on: CPU, cores, memory, Python and library versions, date, GPU."""
    import torch

    try:
        mem_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        mem_gib = None
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "os": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": sys.implementation.name,
        "versions": {
            name: _version(dist)
            for name, dist in [
                ("torch", "torch"),
                ("numpy", "numpy"),
                ("mkdocs", "mkdocs"),
                ("mkdocs-material", "mkdocs-material"),
                ("mkdocstrings-python", "mkdocstrings-python"),
                ("pymdown-extensions", "pymdown-extensions"),
                ("torchfm", "torchfm"),
                ("transformers", "transformers"),
                ("matplotlib", "matplotlib"),
            ]
        },
        "torch_threads": torch.get_num_threads(),
        "gpu": gpu,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
