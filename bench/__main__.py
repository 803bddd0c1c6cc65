"""``python -m bench``: load benchmark data, serve the CRM with gunicorn, measure its busy pages."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from typing import NoReturn

from .database import DEFAULT_URL
from .load import Options, run

LIMITS = {"size": 10_000_000, "requests": 100_000, "concurrency": 64}


def parse(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--size", type=int, default=10_000, help="change journal entries to generate (default 10,000)")
    parser.add_argument("--requests", type=int, default=500, help="measured requests per page (default 500)")
    parser.add_argument("--concurrency", type=int, default=2, help="client threads, one connection each (default 2)")
    parser.add_argument(
        "--database-url",
        default=DEFAULT_URL,
        help=f"database to recreate and use; its name must contain 'bench' (default {DEFAULT_URL})",
    )
    parser.add_argument(
        "--redis-url", default="", help="serve the cache and sessions from Redis (default: the database)"
    )
    args = parser.parse_args(argv)
    for name, limit in LIMITS.items():
        if not 1 <= getattr(args, name) <= limit:
            parser.error(f"--{name} must be between 1 and {limit:,}")
    return Options(
        size=args.size,
        requests=args.requests,
        concurrency=args.concurrency,
        database_url=args.database_url,
        redis_url=args.redis_url,
    )


def _terminate(signum: int, frame: object) -> NoReturn:
    raise SystemExit(128 + signum)  # unwinds, so gunicorn is stopped on the way out


def main(argv: list[str]) -> int:
    options = parse(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        result = run(options)
    except (RuntimeError, ValueError, OSError, subprocess.TimeoutExpired) as exc:
        print(f"The benchmark stopped: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("The benchmark was interrupted.", file=sys.stderr)
        return 130
    if any(page["errors"] for page in result["pages"]):
        print("Some requests failed (see the errors above): these figures do not count.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
