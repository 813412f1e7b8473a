"""The launches under way, between ``/smart/launch`` and ``/smart/callback``: the PKCE verifier
and where to exchange the code, keyed by the ``state`` sent through the authorization server.
Kept in the service's database (any worker may receive the callback), used once, and forgotten
after ``lifetime`` seconds. No token and no patient data is kept."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Column, Engine, Float, MetaData, String, Table, delete, insert, select

from service.hooks.tables import create_missing_tables

metadata = MetaData()
launches = Table(
    "smart_launch", metadata,
    Column("state", String(128), primary_key=True),
    Column("verifier", String(128), nullable=False),
    Column("iss", String(2048), nullable=False),
    Column("token_endpoint", String(2048), nullable=False),
    Column("created", Float, nullable=False),
)


@dataclass(frozen=True)
class Launch:
    state: str
    verifier: str
    iss: str
    token_endpoint: str


class LaunchStates:
    def __init__(self, engine: Engine, lifetime: float) -> None:
        self.engine, self.lifetime = engine, lifetime
        create_missing_tables(metadata, engine)  # every worker does this at start

    def put(self, launch: Launch) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(launches).where(launches.c.created < time.time() - self.lifetime))
            conn.execute(insert(launches).values(
                state=launch.state, verifier=launch.verifier, iss=launch.iss,
                token_endpoint=launch.token_endpoint, created=time.time()))

    def take(self, state: str) -> Launch | None:
        """The launch of ``state``, once: it is deleted as it is read; None if unknown or old."""
        with self.engine.begin() as conn:
            row = conn.execute(select(launches).where(launches.c.state == state)).first()
            if row is None:
                return None
            conn.execute(delete(launches).where(launches.c.state == state))
        if row.created < time.time() - self.lifetime:
            return None
        return Launch(row.state, row.verifier, row.iss, row.token_endpoint)
