"""The engine alone (``service.pipeline.assess_bundle``) and replay (``service.replay``)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from bench.patients import AS_OF, patient_bundle
from service.mapping import default_code_maps
from service.pipeline import assess_bundle
from service.replay import Item, replay_one


def engine_rate(bundle: dict[str, Any], seconds: float) -> dict[str, float]:
    """Bundles/s of ``assess_bundle`` on parsed bundles, one thread (after one warm-up call)."""
    maps = default_code_maps()
    assess_bundle(bundle, as_of=AS_OF, maps=maps)
    times: list[float] = []
    stop = time.perf_counter() + seconds
    while time.perf_counter() < stop or len(times) < 3:
        began = time.perf_counter()
        assess_bundle(bundle, as_of=AS_OF, maps=maps)
        times.append(time.perf_counter() - began)
    times.sort()
    total = sum(times)
    return {"bundles": len(times), "bundles_per_s": round(len(times) / total, 1),
            "mean_ms": round(total / len(times) * 1000, 3),
            "median_ms": round(times[len(times) // 2] * 1000, 3)}


def _replay_texts(size: int, count: int, compact: bool = False) -> list[str]:
    return [json.dumps(patient_bundle(size, seed, compact)) for seed in range(count)]


def _replay_for(texts: list[str], seconds: float) -> tuple[int, float]:
    maps = default_code_maps()
    replay_one(Item("warm-up", texts[0]), as_of=AS_OF, strict=False, maps=maps, cards=False)
    done, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds or done < 3:
        result = replay_one(Item(f"b{done}", texts[done % len(texts)]), as_of=AS_OF,
                            strict=False, maps=maps, cards=False)
        if "error" in result:
            raise RuntimeError(result["error"])
        json.dumps(result, ensure_ascii=False)  # the replay CLI writes one JSON line each
        done += 1
    return done, time.perf_counter() - began


def replay_rate(size: int, seconds: float, processes: int) -> dict[str, Any]:
    """Replay from JSON text (parse, assess, encode the line), per core and on ``processes``;
    also for the same bundles without the fields the engine does not read (compact)."""
    texts = _replay_texts(size, 8)
    done, spent = _replay_for(texts, seconds)
    compact = _replay_texts(size, 8, compact=True)
    done_compact, spent_compact = _replay_for(compact, seconds / 2)
    result: dict[str, Any] = {"size": size, "bytes_per_bundle": len(texts[0]),
                              "one_process_bundles_per_s": round(done / spent, 1),
                              "compact_bytes_per_bundle": len(compact[0]),
                              "compact_one_process_bundles_per_s":
                                  round(done_compact / spent_compact, 1)}
    if processes > 1:
        with ProcessPoolExecutor(processes) as pool:
            runs = list(pool.map(_replay_for, [texts] * processes, [seconds] * processes))
        total = sum(n / s for n, s in runs)
        result.update({"processes": processes, "pool_bundles_per_s": round(total, 1),
                       "pool_bundles_per_s_per_core": round(total / processes, 1)})
    return result
