"""README.md is part of the suite, so it cannot drift from the code (issue 15, item 10).

* Every ```python block runs (pytest-examples).
* Every ```console block runs in one shell, in order, and its output must be the one shown (prysk,
  a cram-style runner). Only what changes from run to run is matched by pattern: tokens, dates,
  relative times, salts and clock-derived numbers; every other character must match. A command
  that exits non-zero fails the comparison unless the README shows its status (``; echo $?``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

if not README.is_file():  # an installed copy of the tests without the source tree
    pytest.skip("README.md is not beside the tests", allow_module_level=True)

pytestmark = pytest.mark.thread_unsafe  # subprocesses and a shared environment


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # The README sets its own (demo) credentials; an operator's must not change what it shows.
    for name in ("APP_ID", "APP_CERTIFICATE", "AGORA_APP_ID", "AGORA_APP_CERTIFICATE", "AGORA_TOKEN_API_KEY"):
        monkeypatch.delenv(name, raising=False)


# --------------------------------------------------------------------------------------------------
# Python blocks

try:
    from pytest_examples import CodeExample, EvalExample, find_examples
except ImportError:  # pytest-examples is in the test extra; without it these tests skip
    find_examples = None  # type: ignore[assignment]


def _python_examples() -> list[CodeExample]:
    if find_examples is None:
        return []
    return [ex for ex in find_examples(str(README)) if ex.prefix.split()[0] in ("py", "python")]


@pytest.mark.skipif(find_examples is None, reason="pytest-examples is not installed")
def test_readme_has_python_blocks() -> None:
    assert len(_python_examples()) >= 4


@pytest.mark.skipif(find_examples is None, reason="pytest-examples is not installed")
@pytest.mark.parametrize("example", _python_examples(), ids=str)
def test_readme_python_block_runs(example: CodeExample, eval_example: EvalExample) -> None:
    eval_example.run(example)


# --------------------------------------------------------------------------------------------------
# Console blocks

_CONSOLE = re.compile(r"^```console\n(.*?)^```", re.S | re.M)
# What legitimately differs between runs, and the pattern that stands for it.
_VARIABLE = [
    (r"\b00[67][A-Za-z0-9+/]{20,}=*", r"00[67][A-Za-z0-9+/]+=*"),  # a freshly built token
    (r"\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\b", r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"),
    # relative times: "0 s ago", "expires in 10 min", "56 years 336 d ago"
    (
        r"\b\d+ (?:years?|d|h|min|s)(?: \d+ (?:d|h|min|s))*(?= ago| after issue|\)|;)",
        r"\d+ (?:years?|d|h|min|s)(?: \d+ (?:d|h|min|s))*",
    ),
    (r"(?<=^Salt:       )\d+$", r"\d+"),
    (r'(?<="salt": )\d+', r"\d+"),
    (r'(?<="issue_ts": )\d+', r"\d+"),
    (r'(?<="expires_at": )\d+', r"\d+"),
    (r'(?<="expires_in": )\d+', r"\d+"),
    (r"(?<=; backend: )c$", r"(c|python \(.*\))"),  # the package's backend: c where built, else python and why
]
_ANY_VARIABLE = re.compile("|".join(f"({pattern})" for pattern, _ in _VARIABLE), re.M)


def console_blocks(text: str) -> list[tuple[int, str]]:
    """Each ```console block as (line number of its fence, body)."""
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in _CONSOLE.finditer(text)]


def expected_line(line: str) -> str:
    """An output line as prysk compares it: literal, or a regex where something varies."""
    parts, last, varied = [], 0, False
    for match in _ANY_VARIABLE.finditer(line):
        group = next(i for i, g in enumerate(match.groups()) if g is not None)
        parts.append(re.escape(line[last : match.start()]) + _VARIABLE[group][1])
        last, varied = match.end(), True
    if not varied:
        return line
    return "".join(parts) + re.escape(line[last:]) + " (re)"


def to_prysk(blocks: list[tuple[int, str]]) -> str:
    """All console blocks as one prysk test: commands indented with "  $ ", output with two spaces."""
    out = []
    for lineno, body in blocks:
        out.append(f"README.md line {lineno}:")
        for line in body.splitlines():
            if line.startswith("$ "):
                out.append("  " + line)
            elif line.startswith("> "):
                out.append("  " + line)
            else:
                out.append("  " + expected_line(line))
    return "\n".join(out) + "\n"


def test_expected_line_keeps_everything_but_what_varies() -> None:
    assert expected_line("Salt:       58281545") == r"Salt:\ \ \ \ \ \ \ \d+ (re)"
    assert expected_line("exit status: 1") == "exit status: 1"
    line = "Issued:     2026-12-01 21:00:12 UTC (0 s ago)"
    pattern = expected_line(line)
    assert pattern.endswith(" (re)") and re.fullmatch(pattern[:-5], "Issued:     1999-01-01 00:00:00 UTC (3 min ago)")
    assert not re.fullmatch(pattern[:-5], "Issued:     1999-01-01 00:00:00 UTC (3 min later)")


def test_readme_console_blocks_show_what_the_commands_print(tmp_path: Path) -> None:
    pytest.importorskip("prysk", reason="prysk is not installed (test extra)")
    blocks = console_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 8
    test_file = tmp_path / "readme.t"
    test_file.write_text(to_prysk(blocks), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    done = subprocess.run(
        [sys.executable, "-m", "prysk", "--shell=/bin/bash", "--indent=2", str(test_file)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, f"README console output differs:\n{done.stdout[-6000:]}\n{done.stderr[-2000:]}"
    assert "# Ran 1 tests, 0 skipped, 0 failed." in done.stdout
