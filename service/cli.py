"""Command line: ``relapsed-all-cds replay|cohort|serve|feedback-report`` (also ``python -m service``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date

from service.cli_server import add_server_commands
from service.cohort.command import add_cohort_command
from service.mapping import MAPPINGS_ENV, MappingError, configured_folders, load_code_maps


def _as_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="relapsed-all-cds",
        description="Decision support for relapsed acute lymphoblastic leukemia (CDS Hooks).")
    commands = parser.add_subparsers(dest="command", required=True)
    replay = commands.add_parser("replay", help="run saved FHIR Bundles through the pipeline")
    replay.add_argument("paths", nargs="+", help="Bundle JSON files, NDJSON files or folders")
    replay.add_argument("--cards", action="store_true", help="print the CDS Hooks cards instead")
    replay.add_argument("--date", type=_as_of, help="evaluate as of this date (YYYY-MM-DD)")
    replay.add_argument("--strict", action="store_true",
                        help="validate every bundle fully with fhir.resources (slower)")
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

    from service.replay import invalid_resources, items, replay_one
    from service.runtime import tune_gc

    maps = load_code_maps(configured_folders(args.mappings))
    tune_gc()
    todo = list(items(args.paths))
    failed = 0
    invalid: list[str] = []
    show_progress = len(todo) > 5 and sys.stderr.isatty()
    for item in tqdm(todo, disable=not show_progress, unit="bundle", file=sys.stderr):
        result = replay_one(item, as_of=args.date, strict=args.strict, maps=maps, cards=args.cards)
        failed += "error" in result
        refs = invalid_resources(result)
        if refs:  # assessed without them: printed, and the run still fails (OUTPUT.md §4)
            invalid.append(f"{item.source}: {', '.join(refs[:10])}")
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    if failed:
        print(f"{failed} of {len(todo)} bundles failed", file=sys.stderr)
    if invalid:
        print(f"{len(invalid)} of {len(todo)} bundles held resources that are not valid FHIR "
              "(left out of the assessment):", file=sys.stderr)
        for line in invalid:
            print(f"  {line}", file=sys.stderr)
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
