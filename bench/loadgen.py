"""A small closed-loop HTTP load generator, run as its own process by the benchmarks.

`python bench/loadgen.py URL --seconds 10 --concurrency 16 [--method PATCH --json '{...}']
[--header 'Authorization: Bearer ...']` prints one JSON line: requests, errors, req/s, p50,
p99 (ms). Bounded in time; loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import statistics
import time
from typing import Any

import httpx


async def _worker(
    client: httpx.AsyncClient,
    args: argparse.Namespace,
    deadline: float,
    latencies: list[float],
    errors: list[str],
) -> None:
    body: Any = json.loads(args.json) if args.json else None
    while time.monotonic() < deadline:
        started = time.perf_counter()
        error = ""
        try:
            response = await client.request(args.method, args.url, json=body)
            if response.status_code >= 400:
                error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:  # e.g. a keep-alive connection the server closed
            error = type(exc).__name__
        latencies.append((time.perf_counter() - started) * 1000)
        if error:
            errors.append(error)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    headers = dict(h.split(": ", 1) for h in args.header)
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    latencies: list[float] = []
    errors: list[str] = []
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:
        deadline = time.monotonic() + args.seconds
        started = time.monotonic()
        await asyncio.gather(
            *(_worker(client, args, deadline, latencies, errors) for _ in range(args.concurrency))
        )
        elapsed = time.monotonic() - started
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "errors": len(errors),
        # Which errors: server answers ("HTTP 500") apart from transport failures.
        "error_kinds": dict(collections.Counter(errors)),
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(ordered) if ordered else 0.0,
        "p99_ms": ordered[int(len(ordered) * 0.99) - 1] if ordered else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--json", default="")
    parser.add_argument("--header", action="append", default=[])
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
