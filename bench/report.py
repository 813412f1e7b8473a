"""Printing, JSON results and the plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def linearity(sizes: list[int], ms: list[float]) -> dict[str, Any]:
    """Per-resource cost at each size, and the growth exponent between the two largest sizes
    (1.0 = linear, 2.0 = quadratic)."""
    import math

    per = [round(m / n * 1000, 2) for n, m in zip(sizes, ms, strict=True)]
    exponent = None
    if len(sizes) >= 2 and ms[-2] > 0:
        exponent = round(math.log(ms[-1] / ms[-2]) / math.log(sizes[-1] / sizes[-2]), 2)
    return {"us_per_resource": per, "growth_exponent_largest_sizes": exponent}


def save(results: dict[str, Any], stamp: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{stamp}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


def plot(results: dict[str, Any], stamp: str) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    sizes = [e["resources"] for e in results["engine"]]
    fig, (left, mid, right) = plt.subplots(1, 3, figsize=(13, 3.8))
    left.plot(sizes, [e["mean_ms"] for e in results["engine"]], "o-", label="engine")
    if results.get("http"):
        hs = [h["resources"] for h in results["http"]]
        left.plot(hs, [h["service"]["p50_ms"] for h in results["http"]], "s-",
                  label="HTTP p50 (service)")
        left.plot(hs, [h["floor"]["p50_ms"] for h in results["http"]], "^--",
                  label="HTTP p50 (floor)")
    left.set(xscale="log", yscale="log", xlabel="resources per patient", ylabel="ms",
             title="Cost by patient size")
    left.legend(fontsize=8)
    mid.plot(sizes, [e["mean_ms"] / e["resources"] * 1000 for e in results["engine"]], "o-")
    mid.set(xscale="log", xlabel="resources per patient", ylabel="µs per resource",
            title="Engine cost per resource", ylim=(0, None))
    if results.get("http"):
        labels = [str(h["resources"]) for h in results["http"]]
        xs = range(len(labels))
        for offset, who in ((-0.2, "service"), (0.2, "floor")):
            right.bar([x + offset for x in xs], [h[who]["p99_ms"] for h in results["http"]],
                      width=0.4, label=f"{who} p99")
        right.set_xticks(list(xs), labels)
        right.set(xlabel="resources per patient", ylabel="ms", title="HTTP p99 latency",
                  yscale="log")
        right.legend(fontsize=8)
    fig.tight_layout()
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{stamp}.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    latest = RESULTS / "latest.png"
    latest.write_bytes(path.read_bytes())
    return path
