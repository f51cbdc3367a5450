"""OpenID Connect Back-Channel Logout 1.0 §2.5: the logout token POSTed to each client's
``backChannelLogoutUri``, in the background — a sign-out never waits for a client.

Each delivery is checked against the outbound policy (``services.outbound``) first; a refused
or failing address is logged, never retried past ``ATTEMPTS``. A 200 or 204 is success
(§2.8: "the RP MUST respond with HTTP 200 OK", 204 accepted too). Pending deliveries are given
a few seconds at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib

import httpx

from pforte.observability import log
from pforte.services.outbound import OutboundPolicy, OutboundRefused, check

ATTEMPTS = 3
TIMEOUT = 5.0  # seconds per attempt
BACKOFF = (1.0, 4.0)  # seconds before the second and third attempt
SHUTDOWN_GRACE = 5.0


class BackChannel:
    def __init__(self, policy: OutboundPolicy, *, backoff: tuple[float, ...] = BACKOFF) -> None:
        self.policy = policy
        self.backoff = backoff
        self._tasks: set[asyncio.Task[bool]] = set()

    def send(self, uri: str, logout_token: str, *, client_id: str) -> asyncio.Task[bool]:
        """Deliver in the background; the task answers whether the client took it."""
        task = asyncio.get_running_loop().create_task(self._deliver(uri, logout_token, client_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _deliver(self, uri: str, logout_token: str, client_id: str) -> bool:
        try:
            await check(self.policy, uri)
        except OutboundRefused as exc:
            log.warning("back_channel_logout_refused", client_id=client_id, reason=str(exc))
            return False
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as http:
            for attempt in range(ATTEMPTS):
                try:
                    answer = await http.post(
                        uri,
                        data={"logout_token": logout_token},
                        headers={"Cache-Control": "no-store"},
                    )
                    if answer.status_code in (200, 204):
                        return True
                    reason = f"status {answer.status_code}"
                except httpx.HTTPError as exc:
                    reason = type(exc).__name__
                log.warning(
                    "back_channel_logout_failed", client_id=client_id, attempt=attempt + 1, reason=reason
                )
                if attempt < len(self.backoff):
                    await asyncio.sleep(self.backoff[attempt])
        return False

    async def close(self) -> None:
        """Give pending deliveries a moment, then cancel what is left."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=SHUTDOWN_GRACE)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
