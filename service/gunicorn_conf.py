"""gunicorn's configuration for this service (what the Dockerfile runs):
``gunicorn -c python:service.gunicorn_conf service.wsgi:app``.

It listens on ``RELAPSED_ALL_CDS_HOST``:``RELAPSED_ALL_CDS_PORT`` with
``RELAPSED_ALL_CDS_WORKERS`` workers (default: one per core), logs JSON lines and counts metrics
across the workers; see :mod:`service.server`.
"""

from service.server import gunicorn_options, prepare_metrics_dir
from service.settings import Settings

prepare_metrics_dir()
_settings = Settings()
globals().update(gunicorn_options(_settings.host, _settings.port, _settings.workers))
