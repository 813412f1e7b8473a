"""``python -m bench.load --seconds 60``: a bounded load test of the service on 127.0.0.1.

gunicorn (2 sync workers, auth off) serves the service; a mix of patient-view calls (mostly
300-resource patients, some of 30 and a few of 3,000) first runs as fast as answers come back
(the sustainable rate is measured), then at a paced fraction of that rate for ``--seconds``.
Reports the rate, latency and every failure (a non-200 status or a transport error); exit
status 1 if there was any. Not run by the test suite.
"""

from __future__ import annotations

import argparse
import json
import sys

from bench.client import hammer
from bench.patients import patient_bundle
from bench.servers import SERVICE_APP, gunicorn
from service.hooks.example_request import hook_request

PATH = "/cds-services/relapsed-all"
MIX = ((300, 14), (30, 5), (3000, 1))  # (resources, share of 20)


def _bodies() -> list[bytes]:
    bodies = []
    for size, share in MIX:
        bodies += [json.dumps(hook_request(patient_bundle(size, seed))).encode()
                   for seed in range(share)]
    order = sorted(range(len(bodies)), key=lambda i: (i * 7) % len(bodies))  # interleave sizes
    return [bodies[i] for i in order]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the paced run")
    parser.add_argument("--calibrate", type=float, default=8.0,
                        help="seconds of the as-fast-as-possible run that measures the rate")
    parser.add_argument("--fraction", type=float, default=0.85,
                        help="the paced rate as a fraction of the measured one")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="client threads (bounded)")
    args = parser.parse_args(argv)
    bodies = _bodies()
    with gunicorn(SERVICE_APP, workers=args.workers) as server:
        url = server.url + PATH
        hammer(url, bodies, seconds=1.0, threads=2)
        closed = hammer(url, bodies, seconds=args.calibrate, threads=args.workers * 2).summary()
        rate = max(1.0, float(closed["requests_per_s"]) * args.fraction)
        print(f"as fast as possible ({args.workers * 2} clients): {closed['requests_per_s']} req/s,"
              f" p99 {closed['p99_ms']} ms, failures {closed['failures']}", flush=True)
        print(f"paced at {rate:.1f} req/s for {args.seconds:.0f} s...", flush=True)
        paced = hammer(url, bodies, seconds=args.seconds, threads=args.threads, rate=rate).summary()
    print(json.dumps({"calibration": closed, "paced": {"target_rate": round(rate, 1), **paced}},
                     indent=2))
    failures = int(closed["failures"]) + int(paced["failures"])
    verdict = "OK" if failures == 0 else "FAILED"
    print(f"{verdict}: {paced['requests']} requests in {paced['seconds']} s "
          f"({paced['requests_per_s']} req/s), p50 {paced['p50_ms']} ms, p99 {paced['p99_ms']} ms,"
          f" max {paced['max_ms']} ms, {failures} errors")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
