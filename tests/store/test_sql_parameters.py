"""A database error never carries the statement's parameters (user data, credential hashes) into
its text, a log line or a traceback: every engine is made with ``hide_parameters=True``."""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest
import structlog
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from pforte.observability import configure_logging, log
from pforte.services.context import Context

pytestmark = pytest.mark.anyio


async def test_a_failed_statement_shows_no_parameter_in_its_error_or_log_line(
    ctx: Context, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert ctx.db.engine.sync_engine.hide_parameters is True
    marker = f"marker-{uuid.uuid4().hex}"
    stream = io.StringIO()
    saved = structlog.get_config()
    monkeypatch.setattr(logging, "basicConfig", lambda **_: None)
    configure_logging("debug")
    structlog.configure(
        logger_factory=structlog.PrintLoggerFactory(file=stream), cache_logger_on_first_use=False
    )
    # SQLAlchemy's own statement log at its most verbose (it would print parameters too).
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    try:
        with pytest.raises(IntegrityError) as raised:
            async with ctx.db.transaction() as session:
                # "system" exists: a unique violation, with a parameter a leak would show.
                await session.execute(
                    text(
                        "INSERT INTO tenants (id, slug, display_name, signing_alg, created_at, updated_at) "
                        "VALUES (:id, 'system', :name, 'ES256', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {"id": uuid.uuid4().hex, "name": marker},
                )
        try:
            raise raised.value
        except IntegrityError:
            log.exception("database_failed")
    finally:
        structlog.configure(**saved)

    message = str(raised.value)
    assert "INSERT INTO tenants" in message  # the statement is still named …
    assert "[SQL parameters hidden due to hide_parameters=True]" in message
    assert marker not in message  # … its parameters are not
    (line,) = [json.loads(raw) for raw in stream.getvalue().splitlines()]
    assert line["event"] == "database_failed"
    assert "IntegrityError" in line["exception"]
    assert marker not in stream.getvalue()
    statement_log = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("sqlalchemy"))
    assert "INSERT INTO tenants" in statement_log
    assert marker not in statement_log
