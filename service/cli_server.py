"""The ``serve`` and ``feedback-report`` subcommands (added to the main CLI by ``service.cli``).

Each subcommand sets ``func``: a callable taking the parsed arguments and returning the exit
status.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from service.hooks.discovery import SERVICE_ID

if TYPE_CHECKING:  # imported where used: replay starts without SQLAlchemy and pydantic-settings
    from service.settings import Settings

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
    serve = subparsers.add_parser("serve", help="run the CDS Hooks service (development server)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--auth", action="store_true",
                       help="check client JWTs against RELAPSED_ALL_CDS_ISSUERS (off by default)")
    serve.add_argument("--database-url", help="feedback database (default: a SQLite file here)")
    serve.set_defaults(func=_serve)

    report = subparsers.add_parser("feedback-report",
                                   help="accepted/overridden cards per card type")
    report.add_argument("--database-url", help="feedback database (default: the serve default)")
    report.add_argument("--json", action="store_true", help="print JSON instead of text")
    report.set_defaults(func=_report)


def _settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    from service.settings import Settings

    if args.database_url:
        overrides["database_url"] = args.database_url
    return Settings(**overrides)


def _serve(args: argparse.Namespace) -> int:
    from werkzeug.serving import run_simple

    from service.app import ConfigurationError, create_app
    from service.settings import Settings

    # the audience of client JWTs: the address served, unless PUBLIC_BASE_URL says otherwise
    overrides: dict[str, Any] = {"auth_enabled": args.auth, "fhir_allow_loopback": True}
    if not Settings().public_base_url:
        overrides["public_base_url"] = f"http://{args.host}:{args.port}"
    settings = _settings(args, **overrides)
    try:
        app = create_app(settings)
    except ConfigurationError as exc:
        print(f"relapsed-all-cds: refusing to start: {exc}", file=sys.stderr)
        return 2
    if not settings.auth_enabled:
        print(AUTH_OFF_NOTICE, file=sys.stderr)
    if settings.fhir_servers is None:
        print(LOOPBACK_NOTICE, file=sys.stderr)
    else:
        print(f"FHIR servers allowed: {', '.join(settings.fhir_servers)}", file=sys.stderr)
    print(f"Discovery: http://{args.host}:{args.port}/cds-services", flush=True)
    print(f"Feedback database: {settings.database_url}", flush=True)
    run_simple(args.host, args.port, app, threaded=True)
    return 0


def _report(args: argparse.Namespace) -> int:
    from service.hooks.feedback import FeedbackStore

    summary = FeedbackStore(_settings(args).database_url).report()
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
        for actions, count in row.get("accepted_suggestions", {}).items():
            print(f"    accepted suggestion ({actions}): {count}")
    return 0
