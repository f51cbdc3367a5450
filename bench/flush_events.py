"""CPU per event row of the event buffer's flush (docs/benchmarks.md §9), in process, on SQLite.

    .venv/bin/python bench/flush_events.py [--rows 10000] [--rounds 4]

Notes ``--rows`` token.issued events for one client, flushes them, and prints the process CPU
(all threads: aiosqlite's too) per row for each round; the first round warms the caches.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

import harness

from pforte.domain.clock import utcnow
from pforte.services.event_buffer import EventBuffer


async def measure(url: str, rows: int, rounds: int) -> list[float]:
    async with harness.context(url) as ctx:
        _key, tenant = await harness.seed_tenant(ctx)
        buffer = EventBuffer(flush_at=rows + 1)
        per_row = []
        for _ in range(rounds):
            for _ in range(rows):
                jti = uuid.uuid4().hex
                buffer.token_issued(
                    tenant.id, tenant.slug, utcnow(), "bench", None, "client_credentials", "a b", jti
                )
            started = time.process_time()
            await buffer.flush(ctx.db)
            per_row.append((time.process_time() - started) * 1e6 / rows)
        return per_row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pforte-flush-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'events.db'}"
        per_row = asyncio.run(measure(url, args.rows, args.rounds))
    print(", ".join(f"{us:.1f}" for us in per_row), f"µs of CPU per row ({args.rows:,} rows a flush)")


if __name__ == "__main__":
    main()
