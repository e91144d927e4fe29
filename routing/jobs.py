"""Background jobs kept in a database (SQLAlchemy; SQLite by default, PostgreSQL by URL).

Shared by the dispatch plan jobs (:mod:`routing.dispatch.storage`) and the planners'
scenario jobs (:class:`JobStore`). A job row has a ``status`` (``queued``, ``running``,
``done``, ``failed``), the worker that claimed it and when that worker last said it is
alive. The rules:

- **claim**: one conditional ``UPDATE ... WHERE status = 'queued'``, so of several workers
  (threads, processes, hosts) exactly one runs a job;
- **heartbeat**: the running worker refreshes ``heartbeat_at`` every ``lease / 4`` seconds
  (:func:`run_with_heartbeat`);
- **restart**: a job whose worker stopped beating for ``lease`` seconds (it died, e.g. the
  server was restarted while it ran) is queued again (:func:`requeue_stale`) and runs
  again from the start: nothing is lost.

Only portable column types are used, and every change is committed at once.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import DateTime, Float, Integer, String, Text, create_engine, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool

from routing.errors import RoutingError

#: Seconds without a heartbeat after which a running job counts as abandoned.
LEASE_SECONDS = 60.0

T = TypeVar("T")


class NotFoundError(RoutingError):
    code = "not_found"
    http_status = 404


class ConflictError(RoutingError):
    code = "conflict"
    http_status = 409


def utc_now() -> dt.datetime:
    """Now in UTC, naive (the portable ``DateTime`` column keeps no zone)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


def worker_name() -> str:
    """This process on this host (gunicorn workers differ by pid)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def create_db_engine(url: str) -> Engine:
    """An engine for ``url``; an in-memory SQLite database is one connection all threads share."""
    if url in ("sqlite://", "sqlite:///:memory:"):
        return create_engine(url, connect_args={"check_same_thread": False},
                             poolclass=StaticPool)  # fmt: skip
    return create_engine(url)


# -- the claim / heartbeat / requeue rules, for any table with the job columns -----------
def claim(engine: Engine, table: Any, job_id: Any, worker: str) -> bool:
    """Mark the queued job as run by ``worker``; False if it is not queued (see module)."""
    with engine.begin() as conn:
        changed = conn.execute(
            update(table)
            .where(table.id == job_id, table.status == "queued")
            .values(status="running", claimed_by=worker, heartbeat_at=utc_now())
        ).rowcount
    return changed == 1


def heartbeat(engine: Engine, table: Any, job_id: Any, worker: str) -> bool:
    """Say that ``worker`` still runs the job; False if the job is no longer its own."""
    with engine.begin() as conn:
        changed = conn.execute(
            update(table)
            .where(table.id == job_id, table.status == "running", table.claimed_by == worker)
            .values(heartbeat_at=utc_now())
        ).rowcount
    return changed == 1


def requeue_stale(engine: Engine, table: Any, lease_seconds: float) -> list:
    """Queue again the running jobs with no heartbeat for ``lease_seconds`` (their worker
    died, e.g. in a restart); a job whose worker is alive keeps beating and is left alone."""
    cutoff = utc_now() - dt.timedelta(seconds=lease_seconds)
    stale = (table.status == "running") & (
        table.heartbeat_at.is_(None) | (table.heartbeat_at < cutoff)
    )
    with engine.begin() as conn:
        ids = list(conn.scalars(select(table.id).where(stale)))
        for job_id in ids:  # conditional again: another worker may requeue it first
            conn.execute(
                update(table).where(table.id == job_id, stale)
                .values(status="queued", claimed_by=None)
            )  # fmt: skip
    return ids


def run_with_heartbeat(
    beat: Callable[[], Any], work: Callable[[], T], *, lease_seconds: float, name: str
) -> T:
    """Run ``work()`` while a thread calls ``beat()`` every ``lease_seconds / 4``."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(lease_seconds / 4):
            beat()

    beater = threading.Thread(target=loop, name=f"{name}-heartbeat", daemon=True)
    beater.start()
    try:
        return work()
    finally:
        stop.set()
        beater.join()


# -- a generic job table ----------------------------------------------------------------
class _Base(DeclarativeBase):
    pass


class JobRow(_Base):
    """One background job of some ``kind`` (e.g. ``scenario``)."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    params: Mapped[str] = mapped_column(Text, default="{}")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    document: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class JobStore:
    """Jobs of one ``kind`` in the database at ``url`` (the table is created if missing).

    A job keeps its ``params`` (JSON), progress (``done`` of ``total`` steps), and when
    finished a JSON ``result`` and one text ``document`` (e.g. an HTML report).
    """

    def __init__(self, url: str, kind: str) -> None:
        self.kind = kind
        self.engine = create_db_engine(url)
        _Base.metadata.create_all(self.engine)
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    def new(self, params: Mapping[str, Any]) -> str:
        job_id = uuid.uuid4().hex
        with self._session() as s, s.begin():
            s.add(JobRow(id=job_id, kind=self.kind, params=json.dumps(dict(params))))
        return job_id

    def _row(self, s: Any, job_id: str) -> JobRow:
        row = s.get(JobRow, job_id) if isinstance(job_id, str) and len(job_id) <= 32 else None
        if row is None or row.kind != self.kind:
            raise NotFoundError(f"no {self.kind} job {job_id!r}")
        return row

    def get(self, job_id: str, *, with_result: bool = False) -> dict[str, Any]:
        """The job's status (and its params, result and document with ``with_result``)."""
        with self._session() as s:
            row = self._row(s, job_id)
            out = {
                "id": row.id,
                "status": row.status,
                "progress": {"done": row.done, "total": row.total,
                             "share": round(row.done / row.total, 4) if row.total else None},
                "error": row.error,
                "created_at": iso(row.created_at),
                "started_at": iso(row.started_at),
                "finished_at": iso(row.finished_at),
                "seconds": None if row.seconds is None else round(row.seconds, 3),
            }  # fmt: skip
            if with_result:
                out["params"] = json.loads(row.params or "{}")
                out["result"] = json.loads(row.result) if row.result else None
                out["document"] = row.document
            return out

    def progress(self, job_id: str, done: int, total: int) -> None:
        with self._session() as s, s.begin():
            row = self._row(s, job_id)
            row.done, row.total = int(done), int(total)

    def finish(
        self,
        job_id: str,
        *,
        result: Any = None,
        document: str | None = None,
        error: str | None = None,
        seconds: float | None = None,
    ) -> None:
        """``done`` with a result, or ``failed`` with an error."""
        with self._session() as s, s.begin():
            row = self._row(s, job_id)
            row.status = "failed" if error is not None else "done"
            row.result = None if result is None else json.dumps(result, allow_nan=False)
            row.document, row.error, row.seconds = document, error, seconds
            row.finished_at = utc_now()

    def claim(self, job_id: str, worker: str) -> bool:
        ok = claim(self.engine, JobRow, job_id, worker)
        if ok:
            with self._session() as s, s.begin():
                self._row(s, job_id).started_at = utc_now()
        return ok

    def heartbeat(self, job_id: str, worker: str) -> bool:
        return heartbeat(self.engine, JobRow, job_id, worker)

    def requeue_stale(self, lease_seconds: float) -> list[str]:
        return [i for i in requeue_stale(self.engine, JobRow, lease_seconds)]

    def queued(self) -> list[str]:
        with self._session() as s:
            rows = s.scalars(
                select(JobRow.id)
                .where(JobRow.kind == self.kind, JobRow.status == "queued")
                .order_by(JobRow.created_at)
            )
            return list(rows)
