"""Command line: ``relapsed-all-cds replay|cohort|serve|feedback-report`` (also ``python -m service``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import date
from importlib import metadata
from pathlib import Path

from service.cli_server import add_server_commands
from service.cohort.command import add_cohort_command
from service.mapping import MAPPINGS_ENV, MappingError, configured_folders, load_code_maps


def _as_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of processes (1 or more)")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="relapsed-all-cds",
        description="Decision support for relapsed acute lymphoblastic leukemia (CDS Hooks).")
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {metadata.version('relapsed-all-cds')}")
    commands = parser.add_subparsers(dest="command", required=True)
    replay = commands.add_parser("replay", help="run saved FHIR Bundles through the pipeline")
    replay.add_argument("paths", nargs="+", help="Bundle JSON files, NDJSON files or folders")
    replay.add_argument("--cards", action="store_true", help="print the CDS Hooks cards instead")
    replay.add_argument("--date", type=_as_of, help="evaluate as of this date (YYYY-MM-DD)")
    replay.add_argument("--strict", action="store_true",
                        help="validate every bundle fully with fhir.resources (slower)")
    replay.add_argument("--jobs", type=_jobs, default=os.cpu_count() or 1, metavar="N",
                        help="worker processes (default: one per core; 1: in this process)")
    replay.add_argument("--html", type=Path, metavar="DIR",
                        help="also write each bundle's relapse view (an HTML page) into DIR")
    replay.add_argument("--mappings", action="append", default=[], metavar="DIR",
                        help=f"an extra folder of code maps (also ${MAPPINGS_ENV})")
    replay.set_defaults(func=_replay)
    example = commands.add_parser("hook-request",
                                  help="print a patient-view request prefetched from a Bundle file")
    example.add_argument("bundle", help="a FHIR Bundle JSON file (e.g. a fixture)")
    example.set_defaults(func=_hook_request)
    add_server_commands(commands)
    add_cohort_command(commands)
    return parser


def _replay(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from service.replay import Options, replay

    missing = [path for path in args.paths if not os.path.exists(path)]
    if missing:
        print(f"relapsed-all-cds: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    maps = load_code_maps(configured_folders(args.mappings))
    options = Options(as_of=args.date, strict=args.strict, cards=args.cards, html=args.html)
    done = failed = 0
    invalid: list[str] = []
    lines = replay(args.paths, options, maps, processes=args.jobs)
    for line in tqdm(lines, disable=not sys.stderr.isatty(), unit="bundle", file=sys.stderr,
                     delay=1.0):
        done += 1
        failed += line.failed
        if line.invalid:  # assessed without them: printed, and the run still fails (OUTPUT.md §4)
            invalid.append(f"{line.source}: {', '.join(line.invalid[:10])}")
        sys.stdout.write(line.text + "\n")
    if not done:
        print("relapsed-all-cds: no bundles in the input (no *.json or *.ndjson file, or only "
              "empty ones)", file=sys.stderr)
        return 1
    if failed:
        print(f"{failed} of {done} bundles failed", file=sys.stderr)
    if invalid:
        print(f"{len(invalid)} of {done} bundles held resources that are not valid FHIR "
              "(left out of the assessment):", file=sys.stderr)
        for text in invalid:
            print(f"  {text}", file=sys.stderr)
    if args.html:
        print(f"relapse views written to {args.html}", file=sys.stderr)
    return 1 if failed or invalid else 0


def _hook_request(args: argparse.Namespace) -> int:
    from service.hooks.example_request import hook_request

    try:
        with open(args.bundle, encoding="utf-8") as handle:
            request = hook_request(json.load(handle))
    except (OSError, ValueError) as exc:
        print(f"relapsed-all-cds: {args.bundle}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(request, ensure_ascii=False))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except MappingError as exc:
        print(f"relapsed-all-cds: mapping error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
