"""Many RTC tokens at once, as CSV: one line per user, e.g. for a class list or a load test.

    python examples/batch.py --channel lesson-1 42 43 alice bob > tokens.csv
    seq 1 10000 | python examples/batch.py --channel big-room - > tokens.csv

Numbers are uids, anything else an account. ``build_rtc_tokens`` checks the shared arguments once
and, on the C backend, builds on every core.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Optional, Union

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _credentials, when run as a script

from _credentials import credentials  # noqa: E402

import agora_token as at  # noqa: E402


def parse_users(words: Sequence[str]) -> list[Union[int, str]]:
    """Decimal numbers become uids; every other word is a string account."""
    return [int(w) if w.isascii() and w.isdigit() else w for w in words]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Write ``user,token`` lines to stdout; 2 with one line on stderr for bad input."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channel", required=True)
    parser.add_argument("--role", default="publisher", choices=("publisher", "subscriber"))
    parser.add_argument("--expire", type=int, default=at.DEFAULT_EXPIRE)
    parser.add_argument("users", nargs="+", help="uids or accounts; '-' reads one per line from stdin")
    args = parser.parse_args(argv)
    words = [line.strip() for line in sys.stdin if line.strip()] if args.users == ["-"] else args.users
    users = parse_users(words)
    app_id, certificate = credentials()
    try:
        tokens = at.build_rtc_tokens(app_id, certificate, args.channel, users, role=args.role, expire=args.expire)
    except (TypeError, ValueError) as exc:
        sys.stderr.write(f"batch.py: error: {exc}\n")
        return 2
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["user", "token"])
    writer.writerows(zip(words, tokens))
    return 0


if __name__ == "__main__":
    sys.exit(main())
