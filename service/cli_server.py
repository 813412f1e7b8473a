"""The ``serve`` and ``feedback-report`` subcommands (added to the main CLI by ``service.cli``).

Each subcommand sets ``func``: a callable taking the parsed arguments and returning the exit
status. ``serve`` runs the production server (gunicorn, :mod:`service.server`); ``--dev`` runs
Werkzeug's development server with its reloader instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from service.hooks.discovery import SERVICE_ID
from service.mapping import MAPPINGS_ENV
from service.runtime import DEFAULT_DATABASE_URL, cores

if TYPE_CHECKING:  # imported where used: replay starts without SQLAlchemy and pydantic-settings
    from service.settings import Settings

ENV = "RELAPSED_ALL_CDS_"
DEFAULT_DATABASE = DEFAULT_DATABASE_URL
AUTH_OFF_NOTICE = (
    "WARNING: JWT authentication of CDS clients is OFF (local sandbox use only). "
    "Use --auth and RELAPSED_ALL_CDS_ISSUERS for anything else."
)
LOOPBACK_NOTICE = (
    "NOTE: fallback FHIR fetches may go to loopback servers (127.0.0.0/8, ::1, localhost), "
    "over http too (local sandbox use). Set RELAPSED_ALL_CDS_FHIR_SERVERS to list the servers "
    "to call instead."
)


def add_server_commands(subparsers: Any) -> None:
    serve = subparsers.add_parser(
        "serve", help="run the CDS Hooks service (gunicorn)",
        description="Run the CDS Hooks service on gunicorn. Every option not given is read from "
                    f"its {ENV}* environment variable, else the default shown.")
    serve.add_argument("--host", help=f"address to listen on (${ENV}HOST, else 127.0.0.1)")
    serve.add_argument("--port", type=int, help=f"port to listen on (${ENV}PORT, else 8080)")
    serve.add_argument("--workers", type=int,
                       help=f"worker processes (${ENV}WORKERS, else one per CPU core: "
                            f"{cores()} here)")
    serve.add_argument("--mappings", action="append", default=[], metavar="DIR",
                       help=f"an extra folder of code maps, added to the embedded ones "
                            f"(${MAPPINGS_ENV}, several separated by ':'; else none)")
    serve.add_argument("--database-url",
                       help=f"feedback database, a SQLAlchemy URL (${ENV}DATABASE_URL, else "
                            f"{DEFAULT_DATABASE}: a SQLite file in the current folder)")
    serve.add_argument("--auth", action="store_true",
                       help=f"check client JWTs against ${ENV}ISSUERS (default: off, for "
                            "sandbox use)")
    serve.add_argument("--dev", action="store_true",
                       help="Werkzeug's development server, reloading on code changes "
                            "(default: gunicorn)")
    serve.set_defaults(func=_serve)

    report = subparsers.add_parser("feedback-report",
                                   help="accepted/overridden cards per card type")
    report.add_argument("--database-url",
                        help=f"the feedback database to read (${ENV}DATABASE_URL, else "
                             f"{DEFAULT_DATABASE} in the current folder); never created")
    report.add_argument("--json", action="store_true", help="print JSON instead of text")
    report.set_defaults(func=_report)


def _settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    """The settings from the environment, with the options given on the command line."""
    from service.settings import Settings

    for name in ("database_url", "host", "port", "workers"):
        if getattr(args, name, None) is not None:
            overrides[name] = getattr(args, name)
    return Settings(**overrides)


def _serve(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args, auth_enabled=args.auth, fhir_allow_loopback=True)
    except ValidationError as exc:
        problems = "; ".join(f"{ENV}{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}"
                             for e in exc.errors(include_url=False, include_input=False))
        print(f"relapsed-all-cds: refusing to start: {problems}", file=sys.stderr)
        return 2
    if not settings.public_base_url:  # the audience of client JWTs: the address served
        settings.public_base_url = f"http://{settings.host}:{settings.port}"
    if not args.dev:
        from service.server import prepare_metrics_dir

        prepare_metrics_dir()  # before the app (and prometheus_client) is imported
    from service.app import ConfigurationError, create_app
    from service.observability.logs import configure_logging

    if args.mappings:  # the process's code maps, read by the app and the pipeline alike
        os.environ[MAPPINGS_ENV] = os.pathsep.join(
            [p for p in os.environ.get(MAPPINGS_ENV, "").split(os.pathsep) if p] + args.mappings)
    from service.hooks.feedback import FeedbackStore

    configure_logging()
    store = FeedbackStore(settings.database_url)
    try:
        app = create_app(settings, store=store)  # the maps loaded once, shared by the workers
    except ConfigurationError as exc:
        print(f"relapsed-all-cds: refusing to start: {exc}", file=sys.stderr)
        return 2
    store.engine.dispose()  # the workers fork from here: each opens its own connections
    _notices(settings)
    if args.dev:
        from werkzeug.serving import run_simple

        run_simple(settings.host, settings.port, app, threaded=True, use_reloader=True)
        return 0
    from service.runtime import tune_gc
    from service.server import Server, gunicorn_options

    tune_gc()  # the app's objects, built here, are shared by the forked workers
    Server(app, gunicorn_options(settings.host, settings.port, settings.workers)).run()
    return 0


def _notices(settings: Settings) -> None:
    from service.hooks.feedback import database_name

    if not settings.auth_enabled:
        print(AUTH_OFF_NOTICE, file=sys.stderr)
    if settings.fhir_servers is None:
        print(LOOPBACK_NOTICE, file=sys.stderr)
    else:
        print(f"FHIR servers allowed: {', '.join(settings.fhir_servers)}", file=sys.stderr)
    print(f"Discovery: http://{settings.host}:{settings.port}/cds-services")
    print(f"Feedback database: {database_name(settings.database_url)}", flush=True)


def _report(args: argparse.Namespace) -> int:
    from service.hooks.feedback import FeedbackStore, NoFeedbackDatabase, database_name

    url = _settings(args).database_url
    try:
        summary = FeedbackStore(url, create=False).report()
    except NoFeedbackDatabase as exc:
        print(f"relapsed-all-cds: {exc} (give the one the service uses with --database-url "
              f"or {ENV}DATABASE_URL)", file=sys.stderr)
        return 1
    print(f"Feedback database: {database_name(url)}", file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    if not summary:
        print(f"No feedback recorded for service '{SERVICE_ID}'.")
        return 0
    print(f"{'card type':<48} {'accepted':>9} {'overridden':>11}")
    for card_type, row in summary.items():
        print(f"{card_type:<48} {row['accepted']:>9} {row['overridden']:>11}")
        for reason in row["override_reasons"]:
            label = reason["display"] or reason["code"]
            print(f"    override reason: {label} ({reason['code']}): {reason['count']}")
    return 0
