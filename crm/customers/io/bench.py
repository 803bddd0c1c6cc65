"""Measure the contact import: ``python -m crm.customers.io.bench --rows 100000``.

Runs ``importing.bench_import`` on a fresh SQLite database in a temporary folder (or on the
database ``--database-url`` names; its name must contain ``bench``, as it is written to) and prints
the figures as JSON: rows per second of a first import and of the same file imported again with
"update", the CPU time per row of this process and of the PostgreSQL server process (when the
database runs on this machine), and the process's peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crm.customers.io.bench", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--duplicates", choices=["skip", "update", "create"], default="update")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--profile", action="store_true", help="print the 30 most expensive functions")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench_import.sqlite3"
        if "bench" not in url.rsplit("/", 1)[-1]:
            parser.error("the database's name must contain 'bench': it is written to")
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        os.environ.setdefault("MEDIA_ROOT", folder)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from .importing import bench_import

        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            figures = profiler.runcall(bench_import, args.rows, duplicates=args.duplicates)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
        else:
            figures = bench_import(args.rows, duplicates=args.duplicates)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
