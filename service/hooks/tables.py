"""Creating the service's tables when several processes start at once.

gunicorn's workers each build the app (the Dockerfile's command) and several replicas may share
one PostgreSQL: on a new database they all find a table missing and all create it. Those that
lose the race between "is it there?" and ``CREATE TABLE`` get an error ("table … already
exists", a duplicate in PostgreSQL's catalogue, "database is locked") although the tables now
exist. A worker that failed to boot on it made gunicorn stop the whole server. Such a process
looks again, after a short pause, instead of failing to start.
"""

from __future__ import annotations

import time

from sqlalchemy import MetaData
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

ATTEMPTS = 5
PAUSE_SECONDS = 0.1  # between attempts: the winner's CREATE TABLEs take milliseconds


def create_missing_tables(metadata: MetaData, engine: Engine) -> None:
    """Create the tables of ``metadata`` that the database lacks; the last error is raised if
    they still cannot be created after :data:`ATTEMPTS` tries."""
    for attempt in range(ATTEMPTS):
        try:
            metadata.create_all(engine)  # checks first: tables already there are skipped
            return
        except (OperationalError, ProgrammingError, IntegrityError):
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(PAUSE_SECONDS)
