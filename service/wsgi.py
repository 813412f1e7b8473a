"""The gunicorn entry point: ``gunicorn service.wsgi:app`` (configured from the environment)."""

from service.app import create_app
from service.runtime import tune_gc

app = create_app()
tune_gc()
