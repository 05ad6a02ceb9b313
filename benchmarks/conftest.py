"""Options for the token benchmarks; independent of tests/conftest.py (no backend fixture here).

pytest benchmarks/bench_tokens.py                         # all rows, default rounds
pytest benchmarks/bench_tokens.py --token-rounds 50       # quicker
pytest benchmarks/bench_tokens.py --token-order reverse   # run the rows in reverse order
"""

from __future__ import annotations

import os
import sys

import pytest

# `impls` lives next to this file; make it importable however pytest was started.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("token benchmarks")
    group.addoption("--token-rounds", type=int, default=300, help="timed rounds per row (default 300)")
    group.addoption("--token-batch", type=int, default=100, help="tokens built per round (default 100)")
    group.addoption("--token-warmup", type=int, default=10, help="untimed warm-up rounds per row (default 10)")
    group.addoption(
        "--token-order", choices=("forward", "reverse"), default="forward",
        help="order of the rows; run.py alternates it between passes",
    )  # fmt: skip


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    if config.getoption("--token-order") == "reverse":
        items.reverse()
