"""``python -m bench [--quick]``: engine, HTTP (service vs. floor), order-sign and replay speed in
one run.

Everything runs on 127.0.0.1: gunicorn (sync workers, auth off) is started as a subprocess for
the service and for the floor app (``bench/floor.py``). Results go to
``bench/results/<timestamp>.json`` with a plot beside it. A report, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import urllib.request
from typing import Any

from bench.client import hammer
from bench.engine import engine_rate, replay_rate
from bench.patients import AS_OF, patient_bundle
from bench.report import linearity, plot, save
from bench.servers import FLOOR_APP, SERVICE_APP, gunicorn
from service.hooks.example_request import hook_request
from service.mapping import default_code_maps
from service.runtime import tune_gc

SIZES = (30, 300, 3000)
SERVICE_PATH = "/cds-services/relapsed-all"
ORDER_SIGN_PATH = "/cds-services/relapsed-all-order-sign"
ORDER_SIGN_SIZE = 300
# The draft an order-sign call checks: blinatumomab, for the bench patient's CNS relapse (one card).
BLINATUMOMAB_DRAFT = {
    "resourceType": "MedicationRequest", "id": "bench-draft-1", "status": "draft", "intent": "order",
    "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                              "code": "1597258"}], "text": "blinatumomab"}}


def _bodies(size: int, variants: int = 3) -> list[bytes]:
    return [json.dumps(hook_request(patient_bundle(size, seed))).encode() for seed in range(variants)]


def _order_sign_bodies(size: int, variants: int = 3) -> list[bytes]:
    bodies = []
    for seed in range(variants):
        body = hook_request(patient_bundle(size, seed))
        body["hook"] = "order-sign"
        draft = {**BLINATUMOMAB_DRAFT, "subject": {"reference": f"Patient/{body['context']['patientId']}"}}
        body["context"]["draftOrders"] = {"resourceType": "Bundle", "type": "collection",
                                          "entry": [{"resource": draft}]}
        bodies.append(json.dumps(body).encode())
    return bodies


def _order_sign(seconds: float, threads: int, workers: int) -> dict[str, Any]:
    """order-sign with full prefetch and one unsafe draft, beside patient-view on the same record."""
    bodies = _order_sign_bodies(ORDER_SIGN_SIZE)
    with gunicorn(SERVICE_APP, workers=workers) as base:
        hammer(base + ORDER_SIGN_PATH, bodies, seconds=min(1.0, seconds / 4), threads=threads)
        found = hammer(base + ORDER_SIGN_PATH, bodies, seconds=seconds, threads=threads).summary()
        found["cards"] = _check_service(base, bodies[0], ORDER_SIGN_PATH)
    return {"size": ORDER_SIGN_SIZE, **found}


def _check_service(base: str, body: bytes, path: str = SERVICE_PATH) -> int:
    request = urllib.request.Request(base + path, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        cards = json.loads(response.read())["cards"]
    if not cards:
        raise RuntimeError("the service answered with no cards: the bench patient is wrong")
    return len(cards)


def _http(app: str, bodies: dict[int, list[bytes]], seconds: float, threads: int,
          workers: int) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    with gunicorn(app, workers=workers) as base:
        for size, sized in bodies.items():
            hammer(base + SERVICE_PATH, sized, seconds=min(1.0, seconds / 4), threads=threads)
            found[size] = hammer(base + SERVICE_PATH, sized, seconds=seconds,
                                 threads=threads).summary()
            if app == SERVICE_APP:
                found[size]["cards"] = _check_service(base, sized[0])
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a ~20 s run (shorter phases)")
    parser.add_argument("--threads", type=int, default=2, help="concurrent HTTP clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args(argv)
    engine_s, http_s, replay_s = (0.8, 2.0, 1.5) if args.quick else (3.0, 10.0, 5.0)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    default_code_maps()
    tune_gc()  # as the gunicorn workers and the replay command do (service/runtime.py)
    began = time.monotonic()
    results: dict[str, Any] = {
        "when": stamp, "quick": args.quick, "as_of": AS_OF.isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "http_setup": {"workers": args.workers, "client_threads": args.threads,
                       "client": "http.client, one connection per request", "auth": "off"},
    }

    print("engine (service.pipeline.assess_bundle, parsed bundle, one thread)...", file=sys.stderr)
    engine: list[dict[str, Any]] = []
    for size in SIZES:
        bundle = patient_bundle(size)
        rate = engine_rate(bundle, engine_s)
        engine.append({"size": size, "resources": len(bundle["entry"]),
                       "bytes": len(json.dumps(bundle)), **rate})
    results["engine"] = engine
    results["engine_growth"] = linearity([e["resources"] for e in engine],
                                         [e["mean_ms"] for e in engine])

    print("replay (service.replay.replay_one from JSON text)...", file=sys.stderr)
    results["replay"] = replay_rate(300, replay_s, 1 if args.quick else (os.cpu_count() or 1))

    if not args.skip_http:
        bodies = {size: _bodies(size) for size in SIZES}
        print("HTTP: the service under gunicorn...", file=sys.stderr)
        service = _http(SERVICE_APP, bodies, http_s, args.threads, args.workers)
        print("HTTP: the floor (bare Flask, JSON parse only)...", file=sys.stderr)
        floor = _http(FLOOR_APP, bodies, http_s, args.threads, args.workers)
        results["http"] = [{
            "size": size, "resources": next(e["resources"] for e in engine if e["size"] == size),
            "body_bytes": len(bodies[size][0]), "service": service[size], "floor": floor[size],
            "p99_ratio": _ratio(service[size]["p99_ms"], floor[size]["p99_ms"]),
            "p50_ratio": _ratio(service[size]["p50_ms"], floor[size]["p50_ms"]),
            "throughput_ratio": _ratio(service[size]["requests_per_s"],
                                       floor[size]["requests_per_s"]),
        } for size in SIZES]
        results["http_growth"] = linearity([h["resources"] for h in results["http"]],
                                           [h["service"]["p50_ms"] for h in results["http"]])
        print("HTTP: order-sign under gunicorn...", file=sys.stderr)
        results["order_sign"] = _order_sign(http_s, args.threads, args.workers)
    results["seconds"] = round(time.monotonic() - began, 1)
    path = save(results, stamp)
    picture = plot(results, stamp)
    print(format_report(results, path, picture))
    return 0


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def format_report(r: dict[str, Any], path: Any, picture: Any) -> str:
    lines = [f"bench {r['when']} ({'quick' if r['quick'] else 'full'} run, {r['seconds']} s, "
             f"{r['machine']['cpus']} CPUs, Python {r['machine']['python']})", "",
             "Engine alone (assess_bundle on a parsed bundle, one core):",
             f"  {'size':>6} {'resources':>9} {'KB':>6} {'bundles/s':>10} {'ms':>8} {'µs/res':>7}"]
    for e, per in zip(r["engine"], r["engine_growth"]["us_per_resource"], strict=True):
        lines.append(f"  {e['size']:>6} {e['resources']:>9} {e['bytes'] // 1024:>6} "
                     f"{e['bundles_per_s']:>10} {e['mean_ms']:>8} {per:>7}")
    lines.append(f"  growth exponent (two largest sizes; 1 = linear): "
                 f"{r['engine_growth']['growth_exponent_largest_sizes']}")
    rp = r["replay"]
    lines += ["", f"Replay of {rp['size']}-resource bundles from JSON text "
                  f"({rp['bytes_per_bundle'] // 1024} KB each): "
                  f"{rp['one_process_bundles_per_s']} bundles/s on one core"
              + (f"; {rp['pool_bundles_per_s']} bundles/s on {rp['processes']} processes "
                 f"({rp['pool_bundles_per_s_per_core']} per core)" if "processes" in rp else ""),
              f"  the same without the fields the engine ignores "
              f"({rp['compact_bytes_per_bundle'] // 1024} KB each): "
              f"{rp['compact_one_process_bundles_per_s']} bundles/s on one core"]
    if r.get("http"):
        setup = r["http_setup"]
        lines += ["", f"HTTP patient-view with full prefetch (gunicorn {setup['workers']} sync workers,"
                      f" {setup['client_threads']} client threads):",
                  f"  {'size':>6} {'who':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
                  f"{'req/s':>8} {'fail':>5}"]
        for h in r["http"]:
            for who in ("service", "floor"):
                s = h[who]
                lines.append(f"  {h['size']:>6} {who:>8} {s['p50_ms']:>8} {s['p95_ms']:>8} "
                             f"{s['p99_ms']:>8} {s['requests_per_s']:>8} {s['failures']:>5}")
            lines.append(f"  {'':>6} {'ratio':>8} p50 ×{h['p50_ratio']}, p99 ×{h['p99_ratio']}, "
                         f"throughput {h['throughput_ratio']} of the floor")
        lines.append(f"  growth exponent of service p50 (two largest sizes): "
                     f"{r['http_growth']['growth_exponent_largest_sizes']}")
    if r.get("order_sign"):
        o = r["order_sign"]
        lines += ["", f"HTTP order-sign with full prefetch, one unsafe draft ({o['size']}-resource "
                      f"record, {o['cards']} card): p50 {o['p50_ms']} ms, p95 {o['p95_ms']} ms, "
                      f"p99 {o['p99_ms']} ms, {o['requests_per_s']} req/s, {o['failures']} failures"]
    lines += ["", f"results: {path}", f"plot:    {picture or '(matplotlib not installed)'}"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
