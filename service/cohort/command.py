"""``relapsed-all-cds cohort EXPORT…``: the command line of a cohort run (imports DuckDB and
Dask only when run, so the rest of the CLI works without the ``cohort`` extra)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from service.mapping import MAPPINGS_ENV, configured_folders, load_code_maps

EXTRA_HINT = "the cohort command needs the cohort extra: pip install 'relapsed-all-cds[cohort]'"


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None


def _instant(text: str) -> str:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date or date-time (ISO 8601)") from None
    return text


def _output(text: str) -> str:
    if not text.endswith((".ndjson", ".parquet")):
        raise argparse.ArgumentTypeError(f"'{text}': the output must end in .ndjson or .parquet")
    return text


def add_cohort_command(commands: Any) -> None:
    cohort = commands.add_parser(
        "cohort", help="assess every patient of a FHIR Bulk Data export, with a cohort report")
    cohort.add_argument("paths", nargs="+", metavar="EXPORT",
                        help="an export folder (or URL), its manifest, or NDJSON(.gz) files")
    cohort.add_argument("--out", type=_output, help="write the assessments here (.ndjson or "
                        ".parquet) instead of stdout")
    cohort.add_argument("--report", help="write the cohort report here (JSON) and beside it as "
                        "HTML (default with --out: <out>.report.json)")
    cohort.add_argument("--date", type=_date, help="evaluate as of this date (YYYY-MM-DD; "
                        "default today)")
    cohort.add_argument("--since", type=_instant, help="only patients with a resource updated "
                        "(meta.lastUpdated) at or after this instant, or not dated")
    cohort.add_argument("--compare", metavar="OTHER", help="list the patients whose group "
                        "changed since another cohort output (.ndjson or .parquet)")
    cohort.add_argument("--workers", type=int, help="local processes (default: every core)")
    cohort.add_argument("--dask", metavar="ADDRESS", help="run on this Dask scheduler instead")
    cohort.add_argument("--work", metavar="DIR", help="intermediate files (for --dask: a folder "
                        "every worker reaches; default: a temporary folder)")
    cohort.add_argument("--mappings", action="append", default=[], metavar="DIR",
                        help=f"an extra folder of code maps (also ${MAPPINGS_ENV})")
    cohort.set_defaults(func=run_command)


def _report_path(args: argparse.Namespace) -> Path | None:
    if args.report:
        return Path(args.report)
    if args.out:
        out = Path(args.out)
        return out.with_name(out.name.rsplit(".", 1)[0] + ".report.json")
    return None


def run_command(args: argparse.Namespace) -> int:
    try:
        from service.cohort import compare, html, output, report
        from service.cohort.run import Options, clean, run
        from service.cohort.split import Layout
    except ImportError:
        print(f"relapsed-all-cds: {EXTRA_HINT}", file=sys.stderr)
        return 2
    folders = configured_folders(args.mappings)
    load_code_maps(folders)  # a mapping error stops here, before any work
    as_of = args.date or date.today()
    options = Options(paths=tuple(args.paths), as_of=as_of,
                      mappings=tuple(str(f) for f in folders), since=args.since,
                      workers=args.workers, dask=args.dask, work=args.work,
                      progress=sys.stderr.isatty())
    outcome, work = run(options)
    try:
        if not outcome.files:
            print("relapsed-all-cds: no NDJSON files found in "
                  f"{', '.join(args.paths)}", file=sys.stderr)
            for problem in outcome.export_problems:
                print(f"  {problem}", file=sys.stderr)
            return 2
        layout = Layout(work, 0)
        if args.out and args.out.endswith(".parquet"):
            output.write_parquet(layout, args.out)
        elif args.out:
            with open(args.out, "w", encoding="utf-8") as handle:
                output.write_ndjson(layout, handle)
        else:
            output.write_ndjson(layout, sys.stdout)
        changes = compare.changes(layout, args.compare) if args.compare else None
    finally:
        clean(work)
    found = report.build(outcome, as_of, args.since, changes, args.compare)
    path = _report_path(args)
    if path is not None:
        path.write_text(json.dumps(found, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        path.with_suffix(".html").write_text(html.render(found), encoding="utf-8")
    _summarise(found)
    return 1 if report.bad_data(outcome) else 0


def _summarise(found: dict[str, Any]) -> None:
    """Counts on stderr, and where the bad data is (no patient data)."""
    problems = found["data_problems"]
    applicable = found["applicable"].get("applicable", 0)
    print(f"{found['patients']} patients assessed, {applicable} with a relapse to assess",
          file=sys.stderr)
    if "compare" in found:
        print(f"{found['compare']['changed']} patients changed group", file=sys.stderr)
    for item in problems["by_file"]:
        print(f"  {item['file']}: {item['count']} lines: {item['problem']}", file=sys.stderr)
    for problem in problems["export"]:
        print(f"  {problem}", file=sys.stderr)
    invalid = problems["records"].get("resources not valid FHIR", 0)
    if invalid:
        print(f"  {invalid} resources not valid FHIR (left out of the assessments)",
              file=sys.stderr)
