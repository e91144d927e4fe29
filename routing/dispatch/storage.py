"""Bookings, vehicles and plan versions in a database (SQLAlchemy; SQLite by default).

Only portable column types are used (String, Text, Integer, Float, Boolean, DateTime), so a
PostgreSQL URL (``postgresql+psycopg://...``) works as well as the default
``sqlite:///path``. Bookings and vehicles are stored as their JSON day rows (the shape of
:mod:`routing.dispatch.city`); a plan row keeps the day it was made from, its status (a
job: ``queued``, ``running``, ``done``, ``failed``), the plan, its KPIs and the version it
re-planned. Every change is committed at once, so a restart loses nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    inspect,
    select,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from routing import jobs
from routing.errors import InvalidInputError
from routing.jobs import ConflictError, NotFoundError

__all__ = ["ConflictError", "DispatchStore", "NotFoundError"]


_now = jobs.utc_now


class _Base(DeclarativeBase):
    pass


class BookingRow(_Base):
    __tablename__ = "dispatch_bookings"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now, onupdate=_now)


class VehicleRow(_Base):
    __tablename__ = "dispatch_vehicles"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now, onupdate=_now)


class PlanRow(_Base):
    __tablename__ = "dispatch_plans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("dispatch_plans.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    params: Mapped[str] = mapped_column(Text, default="{}")
    day: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # The worker that claimed the job and when it last said it is alive (see claim_plan).
    claimed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


# Columns added after the first release: added in place to an older database.
_ADDED_PLAN_COLUMNS = {"claimed_by": "VARCHAR(128)", "heartbeat_at": "TIMESTAMP"}


def _check_id(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 64:
        raise InvalidInputError(f"{field} must be a string of 1 to 64 characters", field=field)
    return value


class DispatchStore:
    """The dispatch database at ``url`` (tables are created if missing)."""

    def __init__(self, url: str) -> None:
        self.engine = jobs.create_db_engine(url)
        _Base.metadata.create_all(self.engine)
        self._add_missing_columns()
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    def _add_missing_columns(self) -> None:
        have = {c["name"] for c in inspect(self.engine).get_columns(PlanRow.__tablename__)}
        with self.engine.begin() as conn:
            for name, sql_type in _ADDED_PLAN_COLUMNS.items():
                if name not in have:
                    conn.execute(text(f"ALTER TABLE {PlanRow.__tablename__} "
                                      f"ADD COLUMN {name} {sql_type}"))  # fmt: skip

    def session(self) -> Session:
        return self._session()

    # -- bookings and vehicles -----------------------------------------------------------
    def put_booking(self, row: Mapping[str, Any]) -> dict[str, Any]:
        booking_id = _check_id(row.get("id"), "id")
        with self.session() as s, s.begin():
            existing = s.get(BookingRow, booking_id)
            if existing is None:
                s.add(BookingRow(id=booking_id, data=json.dumps(dict(row))))
            else:
                existing.data = json.dumps(dict(row))
                existing.cancelled = False
        return dict(row)

    def cancel_booking(self, booking_id: str) -> None:
        with self.session() as s, s.begin():
            row = s.get(BookingRow, booking_id)
            if row is None:
                raise NotFoundError(f"no booking {booking_id!r}")
            row.cancelled = True

    def lock_booking(self, booking_id: str, locked: bool = True) -> None:
        with self.session() as s, s.begin():
            row = s.get(BookingRow, booking_id)
            if row is None:
                raise NotFoundError(f"no booking {booking_id!r}")
            row.locked = locked

    def bookings(self, *, include_cancelled: bool = False) -> list[dict[str, Any]]:
        with self.session() as s:
            rows = s.scalars(select(BookingRow).order_by(BookingRow.id)).all()
            return [
                dict(json.loads(r.data), cancelled=r.cancelled, locked=r.locked)
                for r in rows
                if include_cancelled or not r.cancelled
            ]

    def put_vehicle(self, row: Mapping[str, Any]) -> dict[str, Any]:
        vehicle_id = _check_id(row.get("id"), "id")
        with self.session() as s, s.begin():
            existing = s.get(VehicleRow, vehicle_id)
            if existing is None:
                s.add(VehicleRow(id=vehicle_id, data=json.dumps(dict(row))))
            else:
                existing.data = json.dumps(dict(row))
        return dict(row)

    def delete_vehicle(self, vehicle_id: str) -> None:
        with self.session() as s, s.begin():
            row = s.get(VehicleRow, vehicle_id)
            if row is None:
                raise NotFoundError(f"no vehicle {vehicle_id!r}")
            s.delete(row)

    def vehicles(self) -> list[dict[str, Any]]:
        with self.session() as s:
            rows = s.scalars(select(VehicleRow).order_by(VehicleRow.id)).all()
            return [json.loads(r.data) for r in rows]

    def day(self) -> dict[str, Any]:
        """The current day: active bookings and all vehicles."""
        bookings = [
            {k: v for k, v in b.items() if k not in ("cancelled", "locked")}
            for b in self.bookings()
        ]
        return {"name": "stored", "bookings": bookings, "vehicles": self.vehicles()}

    def locked_booking_ids(self) -> set[str]:
        return {b["id"] for b in self.bookings() if b.get("locked")}

    # -- plans ---------------------------------------------------------------------------
    def new_plan(self, params: Mapping[str, Any], parent_id: int | None = None) -> int:
        with self.session() as s, s.begin():
            row = PlanRow(params=json.dumps(dict(params)), parent_id=parent_id)
            s.add(row)
            s.flush()
            return int(row.id)

    def update_plan(self, plan_id: int, **fields: Any) -> None:
        with self.session() as s, s.begin():
            row = s.get(PlanRow, plan_id)
            if row is None:
                raise NotFoundError(f"no plan {plan_id}")
            for key in ("day", "result"):
                if key in fields and fields[key] is not None:
                    fields[key] = json.dumps(fields[key])
            if fields.get("status") in ("done", "failed"):
                fields["finished_at"] = _now()
            for key, value in fields.items():
                setattr(row, key, value)

    def plan(self, plan_id: int) -> dict[str, Any]:
        with self.session() as s:
            row = s.get(PlanRow, plan_id)
            if row is None:
                raise NotFoundError(f"no plan {plan_id}")
            return _plan_dict(row)

    def plans(self) -> list[dict[str, Any]]:
        with self.session() as s:
            rows = s.scalars(select(PlanRow).order_by(PlanRow.id)).all()
            return [dict(_plan_dict(r), day=None, result=None) for r in rows]

    def latest_done_plan(self) -> dict[str, Any] | None:
        with self.session() as s:
            row = s.scalars(
                select(PlanRow).where(PlanRow.status == "done").order_by(PlanRow.id.desc())
            ).first()
            return None if row is None else _plan_dict(row)

    def claim_plan(self, plan_id: int, worker: str) -> bool:
        """Mark the queued job ``plan_id`` as run by ``worker``; False if it is not queued
        (:func:`routing.jobs.claim`: a job runs once however many workers there are)."""
        return jobs.claim(self.engine, PlanRow, plan_id, worker)

    def heartbeat(self, plan_id: int, worker: str) -> bool:
        """Say that ``worker`` still runs ``plan_id``; False if the job is no longer its own."""
        return jobs.heartbeat(self.engine, PlanRow, plan_id, worker)

    def requeue_stale(self, lease_seconds: float) -> list[int]:
        """Queue again the running jobs with no heartbeat for ``lease_seconds`` (their worker
        died, e.g. in a restart); a job whose worker is alive keeps beating and is left alone."""
        return [int(i) for i in jobs.requeue_stale(self.engine, PlanRow, lease_seconds)]

    def queued_plans(self) -> list[int]:
        with self.session() as s:
            rows = s.scalars(select(PlanRow.id).where(PlanRow.status == "queued"))
            return [int(r) for r in rows]

    def unfinished_plans(self) -> list[int]:
        with self.session() as s:
            rows = s.scalars(select(PlanRow.id).where(PlanRow.status.in_(("queued", "running"))))
            return [int(r) for r in rows]


def _plan_dict(row: PlanRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "version": row.id,
        "parent_id": row.parent_id,
        "status": row.status,
        "params": json.loads(row.params or "{}"),
        "day": json.loads(row.day) if row.day else None,
        "result": json.loads(row.result) if row.result else None,
        "error": row.error,
        "created_at": row.created_at.isoformat() + "Z" if row.created_at else None,
        "finished_at": row.finished_at.isoformat() + "Z" if row.finished_at else None,
    }
