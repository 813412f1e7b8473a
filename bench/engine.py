"""The engine alone (``service.pipeline.assess_bundle``) and replay (``service.replay``), in CPU
time of this process (and of its worker processes)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.patients import AS_OF, patient_bundle
from service.mapping import default_code_maps
from service.pipeline import assess_bundle
from service.replay import Item, Options, replay, replay_line
from service.runtime import collector_paused


def engine_rate(bundle: dict[str, Any], seconds: float) -> dict[str, float]:
    """Bundles per CPU second of ``assess_bundle`` on parsed bundles (after one warm-up call),
    with the cyclic collector paused during each, as the service and replay run it."""
    maps = default_code_maps()
    assess_bundle(bundle, as_of=AS_OF, maps=maps)
    times: list[float] = []
    stop = time.process_time() + seconds
    while time.process_time() < stop or len(times) < 3:
        began = time.process_time()
        with collector_paused():
            assess_bundle(bundle, as_of=AS_OF, maps=maps)
        times.append(time.process_time() - began)
    times.sort()
    total = sum(times)
    return {"bundles": len(times), "bundles_per_s": round(len(times) / total, 1),
            "mean_ms": round(total / len(times) * 1000, 3),
            "median_ms": round(times[len(times) // 2] * 1000, 3)}


def _texts(size: int, count: int) -> list[str]:
    return [json.dumps(patient_bundle(size, seed)) for seed in range(count)]


def _cpu_rate(texts: list[str], seconds: float, fn: Any) -> float:
    """Calls of ``fn`` on ``texts`` (round robin) per CPU second of this process."""
    fn(texts[0])
    done, began = 0, time.process_time()
    while time.process_time() - began < seconds or done < 3:
        fn(texts[done % len(texts)])
        done += 1
    return done / (time.process_time() - began)


def _replay_text(text: str) -> None:
    """One record as the replay command does it: parsed, assessed, written as its line."""
    line = replay_line(Item("bench", text), Options(as_of=AS_OF), default_code_maps())
    if line.failed:
        raise RuntimeError(line.text)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _pool_run(path: Path, processes: int) -> dict[str, float]:
    """``service.replay.replay`` over an NDJSON file on ``processes`` workers: wall time and
    the CPU time of this process and its workers."""
    wall, mine, theirs = time.perf_counter(), time.process_time(), _children_cpu()
    count = sum(1 for _ in replay([path], Options(as_of=AS_OF), default_code_maps(), processes))
    wall = time.perf_counter() - wall
    cpu = time.process_time() - mine + _children_cpu() - theirs
    return {"bundles": count, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "bundles_per_s": round(count / wall, 1), "bundles_per_cpu_s": round(count / cpu, 1),
            "cores_used": round(cpu / wall, 2)}


_MEASURED_REPLAY = """
import os, resource, sys
from service.cli import main
sys.stdout = open(os.devnull, "w")
main(sys.argv[1:])
rss = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
print(rss, file=sys.stderr)
"""


def _max_rss_mb(path: Path, processes: int) -> float:
    """The largest resident set of the replay command or one of its workers on ``path`` (a
    fresh interpreter each time, so that nothing else is counted)."""
    run = subprocess.run([sys.executable, "-c", _MEASURED_REPLAY, "replay", "--jobs",
                          str(processes), "--date", AS_OF.isoformat(), str(path)],
                         capture_output=True, text=True, check=False)
    return round(int(run.stderr.split()[-1]) / 1024, 1)


def replay_rate(size: int, seconds: float, processes: int) -> dict[str, Any]:
    """Replay from JSON text (parse, assess, encode the line) per CPU second on one core, beside
    ``json.loads`` of the same texts; then a file of them on ``processes`` workers, and the
    memory of the replay command for that file and one four times as long."""
    texts = _texts(size, 8)
    one = _cpu_rate(texts, seconds, _replay_text)
    loads = _cpu_rate(texts, seconds / 2, json.loads)
    result: dict[str, Any] = {"size": size, "bytes_per_bundle": len(texts[0]),
                              "one_core_bundles_per_cpu_s": round(one, 1),
                              "json_loads_per_cpu_s": round(loads, 1)}
    count = max(40, int(one * seconds))
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        small, large = Path(tmp) / "small.ndjson", Path(tmp) / "large.ndjson"
        for path, n in ((small, count), (large, 4 * count)):
            with path.open("w", encoding="utf-8") as out:
                for i in range(n):
                    out.write(texts[i % len(texts)] + "\n")
        result["pool"] = {"processes": processes, **_pool_run(small, processes)}
        result["memory"] = {"bundles": [count, 4 * count],
                            "max_rss_mb": [_max_rss_mb(small, processes),
                                           _max_rss_mb(large, processes)],
                            "input_mb": [round(os.path.getsize(p) / 2**20, 1)
                                         for p in (small, large)]}
    return result
