"""The documentation is part of the suite, so it cannot drift from the code: README.md, CONTRIBUTING.md,
CHANGELOG.md and every page of docs/ (issue 24).

* Every ```python block runs (pytest-examples), the blocks of a page in order and sharing their names, as a
  reader who pastes them one after the other would.
* Every ```console block runs in one shell per page, in order, and its output must be the one shown (prysk, a
  cram-style runner). Only what changes from run to run is matched by pattern: tokens, dates, relative times,
  salts and clock-derived numbers; every other character must match. A command that exits non-zero fails the
  comparison unless the page shows its status (``; echo $?``).
* A console block after ``<!-- docs-test: server -->`` talks to a real ``agora-token serve`` that the test
  starts (demo credentials, a free loopback port that replaces ``localhost:8080``). As the page shows them,
  the test's ``curl`` ends each answer with a newline (JSON bodies have none) and drops the carriage returns
  of HTTP's header lines.
* A block after ``<!-- docs-test: illustration (why) -->`` is shown and not run; the test counts these.
* A ```python block that only includes a file (``--8<-- "examples/x.py"``) shows a file the suite runs
  elsewhere; the file must exist. Blocks in other languages (sh, yaml…) are commands to copy or files to
  write, never run: none may look like a transcript (a ``$ `` prompt), which would escape the check.
* The pages that describe an interface are checked against it: the API reference names every public name,
  the command line page every subcommand and option of ``--help``, the server's configuration table every
  option of ``serve --help`` and every variable the server reads.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import inspect
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest

import agora_token
from agora_token.cli import build_parser
from agora_token.credentials import SECONDARY_CERTIFICATE_VARS

from . import processes
from .common import APP_ID, CERT

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"

if not (README.is_file() and DOCS.is_dir()):  # an installed copy of the tests without the source tree
    pytest.skip("README.md and docs/ are not beside the tests", allow_module_level=True)

pytestmark = pytest.mark.thread_unsafe  # subprocesses, servers and a shared environment

#: Every page a reader sees: the repository's front pages and the site's (its includes aside: the site's
#: contributing and changelog pages are CONTRIBUTING.md and CHANGELOG.md, the benchmarks' tables are data).
_INCLUDES_ONLY = ("contributing.md", "changelog.md")
PAGES = [README, ROOT / "CONTRIBUTING.md", ROOT / "CHANGELOG.md"] + sorted(
    p for p in DOCS.rglob("*.md") if "assets" not in p.relative_to(DOCS).parts and p.name not in _INCLUDES_ONLY
)


def page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # The pages set their own (demo) credentials; an operator's must not change what they show.
    for name in processes.SERVER_VARS:
        monkeypatch.delenv(name, raising=False)


# --------------------------------------------------------------------------------------------------
# The blocks of a page

_FENCE = re.compile(
    r"^(?P<indent>[ ]*)(?P<fence>`{3,})(?P<info>[^`\n]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)[ ]*$", re.S | re.M
)
_MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<kind>[a-z]+)(?P<why>[^>]*)-->\s*$")
_INCLUDE = re.compile(r'^\s*--8<--\s+"(?P<path>[^"]+)"\s*$')


@dataclass
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    body: str
    marker: Optional[str]  # "server", "illustration" or None

    def __str__(self) -> str:
        return f"{page_id(self.path)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    found = []
    for m in _FENCE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        indent = len(m.group("indent"))
        body = "".join(row[indent:] for row in m.group("body").splitlines(keepends=True))
        before = next((row for row in reversed(lines[: line - 1]) if row.strip()), "")
        marker = _MARKER.match(before)
        lang = (m.group("info").split() or [""])[0]
        found.append(Block(path, line, lang, body, marker.group("kind") if marker else None))
    return found


def included_file(block: Block) -> Optional[Path]:
    """The file a block consists of (``--8<-- "path"``), or None for a block with code of its own."""
    match = _INCLUDE.match(block.body.strip()) if block.body.strip().count("\n") == 0 else None
    return ROOT / match.group("path") if match else None


def test_every_block_is_run_included_or_marked() -> None:
    counts = {"python run": 0, "console run": 0, "server": 0, "included": 0, "illustration": 0, "other": 0}
    problems = []
    for page in PAGES:
        for block in blocks(page):
            if block.marker not in (None, "server", "illustration"):
                problems.append(f"{block}: unknown marker docs-test: {block.marker}")
            elif block.marker == "illustration":
                counts["illustration"] += 1
            elif block.lang in ("python", "py"):
                file = included_file(block)
                if file is not None and not file.is_file():
                    problems.append(f"{block}: includes {file}, which does not exist")
                counts["included" if file else "python run"] += 1
            elif block.lang == "console":
                counts["server" if block.marker == "server" else "console run"] += 1
            else:
                counts["other"] += 1
                if block.marker == "server":
                    problems.append(f"{block}: only console blocks run against the server")
                if any(row.startswith("$ ") for row in block.body.splitlines()):
                    problems.append(f"{block}: a ```{block.lang} block with a '$ ' prompt: make it ```console")
    assert not problems, "\n".join(problems)
    print("docs blocks:", counts)
    assert counts["python run"] >= 10 and counts["console run"] >= 10 and counts["server"] >= 3, counts


# --------------------------------------------------------------------------------------------------
# Python blocks

try:
    from pytest_examples import CodeExample, EvalExample, find_examples
except ImportError:  # pytest-examples is in the test extra; without it these tests skip
    find_examples = None  # type: ignore[assignment]


def _python_pages() -> list[Path]:
    return [p for p in PAGES if any(b.lang in ("python", "py") for b in blocks(p))]


def _runnable(page: Path) -> list[CodeExample]:
    """The page's Python blocks that run: not included files, not illustrations."""
    skip = {b.line for b in blocks(page) if b.marker == "illustration" or included_file(b)}
    examples = [ex for ex in find_examples(str(page)) if ex.prefix.split()[0] in ("py", "python")]
    return [ex for ex in examples if ex.start_line not in skip]


@pytest.mark.skipif(find_examples is None, reason="pytest-examples is not installed")
@pytest.mark.parametrize("page", _python_pages(), ids=page_id)
def test_python_blocks_run(page: Path, eval_example: EvalExample) -> None:
    names: dict[str, Any] = {}
    ran = 0
    for example in _runnable(page):
        names = eval_example.run(example, module_globals=names)
        ran += 1
    assert ran or all(b.marker or included_file(b) for b in blocks(page) if b.lang in ("python", "py"))


# --------------------------------------------------------------------------------------------------
# Console blocks

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
    # The server's answers: its backend, version and uptime, the HTTP date, the metrics' creation times.
    (r'(?<="backend":")c(?=")', r"(c|python)"),
    (r'(?<="version":")[^"]+(?=")', r'[^"]+'),
    (r'(?<="uptime_seconds":)[0-9.]+', r"[0-9.]+"),
    (r"(?<=^date: )\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$", r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT"),
    (r"(?<=_created\{)[^}]*\} \d\.\d+e\+\d\d$", r"[^}]*\} \d\.\d+e\+\d\d"),
]
_ANY_VARIABLE = re.compile("|".join(f"({pattern})" for pattern, _ in _VARIABLE), re.M)


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


def to_prysk(page: Path, console: list[Block], server_url: Optional[str] = None) -> str:
    """A page's console blocks as one prysk test: commands indented "  $ ", output with two spaces."""
    out = []
    if server_url is not None:  # the server's JSON ends without a newline; the page shows one
        out += [
            "The server's answers as the page shows them:",
            """  $ curl() { command curl "$@" | tr -d '\\r'; echo; }""",
        ]
    for block in console:
        out.append(f"{page_id(page)} line {block.line}:")
        for line in block.body.splitlines():
            if line.startswith(("$ ", "> ")):
                if block.marker == "server" and server_url is not None:
                    line = line.replace("localhost:8080", server_url)
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
    health = '{"status":"ok","version":"0.1.0","backend":"c","uptime_seconds":2.96,"max_expire_seconds":86400}'
    pattern = expected_line(health)[:-5]
    assert re.fullmatch(pattern, health.replace("2.96", "0.5").replace('"c"', '"python"').replace("0.1.0", "1.2.3"))
    assert not re.fullmatch(pattern, health.replace("86400", "3600"))
    created = 'agora_token_errors_created{kind="bad_request"} 1.7965630818082905e+09'
    assert re.fullmatch(expected_line(created)[:-5], created.replace("1.79656308180", "1.80000000000"))


def _console_pages() -> list[Path]:
    return [p for p in PAGES if any(b.lang == "console" and b.marker != "illustration" for b in blocks(p))]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("page", _console_pages(), ids=page_id)
def test_console_blocks_show_what_the_commands_print(page: Path, tmp_path: Path) -> None:
    pytest.importorskip("prysk", reason="prysk is not installed (test extra)")
    console = [b for b in blocks(page) if b.lang == "console" and b.marker != "illustration"]
    if any(b.marker == "server" for b in console) and shutil.which("curl") is None:
        pytest.skip("the page's server answers are read with curl, which is not installed")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    test_file = tmp_path / "page.t"
    if any(b.marker == "server" for b in console):
        server_env = processes.server_env(APP_ID=APP_ID, APP_CERTIFICATE=CERT)
        with processes.serving(["--no-access-log"], server_env) as (_, url):
            test_file.write_text(to_prysk(page, console, url.replace("http://", "")), encoding="utf-8")
            done = _prysk(test_file, env, tmp_path)
    else:
        test_file.write_text(to_prysk(page, console), encoding="utf-8")
        done = _prysk(test_file, env, tmp_path)
    assert done.returncode == 0, (
        f"{page_id(page)}: console output differs:\n{done.stdout[-6000:]}\n{done.stderr[-2000:]}"
    )
    assert "# Ran 1 tests, 0 skipped, 0 failed." in done.stdout


def _prysk(test_file: Path, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "prysk", "--shell=/bin/bash", "--indent=2", str(test_file)]
    return processes.run(argv, env, timeout=240, cwd=str(cwd))


# --------------------------------------------------------------------------------------------------
# README: the front door


def test_readme_is_a_front_door() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200, "README.md is the front door: 200 lines at most; the rest goes in docs/"
    for marker in ("run-command", "test-command"):  # .ci/run reads the two set-up commands between them
        assert f"<!-- {marker} -->" in text and f"<!-- /{marker} -->" in text
    for target in re.findall(r"\]\((?!https?://|#)([^)#\s]+)", text):
        assert (ROOT / target).exists(), f"README.md links to {target}, which does not exist"


# --------------------------------------------------------------------------------------------------
# The API reference names every public name


def _directives() -> dict[str, list[str]]:
    """Each ``::: name`` of the reference pages, with the ``members`` its options list (empty: none listed)."""
    found: dict[str, list[str]] = {}
    for page in sorted((DOCS / "reference").glob("*.md")):
        lines = page.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if not line.startswith("::: "):
                continue
            members: list[str] = []
            for option in lines[i + 1 :]:
                if option and not option.startswith(" "):
                    break
                inline = re.match(r"\s+members:\s*\[(.*)\]", option)
                if inline:
                    members += [m.strip() for m in inline.group(1).split(",")]
                item = re.match(r"\s+- (\w+)\s*$", option)
                if item:
                    members.append(item.group(1))
            found[line[4:].strip()] = members
    return found


def _defined_at_top(module: Any) -> set[str]:
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_reference_documents_every_public_name() -> None:
    directives = _directives()
    missing = [name for name in agora_token.__all__ if f"agora_token.{name}" not in directives]
    assert not missing, f"docs/reference/ has no '::: agora_token.NAME' for {missing}"

    compat = importlib.import_module("agora_token.compat")
    assert set(compat.__all__) <= set(directives["agora_token.compat"])
    modules = {name: importlib.import_module(f"agora_token.compat.{name}") for name in compat.MODULES}
    own = {name: _defined_at_top(module) for name, module in modules.items()}
    for name, module in modules.items():
        assert f"agora_token.compat.{name}" in directives, f"docs/reference/compat.md lacks agora_token.compat.{name}"
        for exported in module.__all__:
            # Documented at its home: the compat module that defines it (the official modules re-export).
            homes = [
                h
                for h in compat.MODULES
                if exported in own[h] and getattr(modules[h], exported) is getattr(module, exported)
            ]
            assert homes, f"agora_token.compat.{name}.{exported} is defined in no compat module"
            assert exported in directives[f"agora_token.compat.{homes[0]}"], (
                f"agora_token.compat.{name} exports {exported}; docs/reference/compat.md does not list it "
                f"among agora_token.compat.{homes[0]}'s members"
            )  # fmt: skip


def test_the_reference_shows_each_bound_builder_as_a_function_with_its_own_signature() -> None:
    """A builder that ``bind_first`` makes (a ``functools.partial``) is documented by
    docs/griffe_runtime.py as a function: its name, ``inspect.signature`` (the implementation's,
    without the bound argument) and docstring, as ``help()`` and type checkers see it."""
    griffe = pytest.importorskip("griffe", reason="the docs extra builds the reference")
    spec = importlib.util.spec_from_file_location("griffe_runtime", DOCS / "griffe_runtime.py")
    assert spec is not None and spec.loader is not None
    extension = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extension)
    package = griffe.load("agora_token", extensions=griffe.load_extensions(extension.RuntimeFunctions()))
    builders = importlib.import_module("agora_token.builders")
    bound = {name: value for name, value in vars(builders).items() if isinstance(value, functools.partial)}
    assert {"build_rtc_rtm_token", "build_convoai_token", "build_stt_token"} <= set(bound)
    for name, builder in bound.items():
        impl = inspect.signature(builder.func).parameters
        assert list(inspect.signature(builder).parameters) == list(impl)[len(builder.args) :], name
        documented = package["builders"][name]
        assert documented.is_function, f"the reference shows {name} as {documented.kind}"
        assert [p.name for p in documented.parameters] == list(inspect.signature(builder).parameters), name
        assert documented.docstring is not None and documented.docstring.value == inspect.cleandoc(builder.__doc__)


# --------------------------------------------------------------------------------------------------
# The command line page against --help

CLI_PAGE = DOCS / "cli.md"
_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
_HELP_OPTION = re.compile(r"^  (?:-\w, )?(--[a-z][\w-]*)(?:, (--[a-z][\w-]*))?", re.M)


def sections(path: Path) -> list[tuple[str, str]]:
    """(heading, text up to the next heading of level 2 or 3) for each such heading of a page, code blocks
    left out (an example may use options of other commands)."""
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    parts = re.split(r"^(#{2,3} .*)$", text, flags=re.M)
    return list(zip(parts[1::2], parts[2::2]))


def help_options(help_text: str) -> set[str]:
    return {o for m in _HELP_OPTION.finditer(help_text) for o in m.groups() if o and o != "--help"}


def test_cli_page_lists_every_subcommand_and_option() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    helps = {name: p.format_help() for name, p in sub.choices.items()}  # what `agora-token NAME --help` prints
    page = sections(CLI_PAGE)
    shared = next(text for heading, text in page if heading.endswith("Credentials"))
    shared_options = set(_OPTION.findall(shared))
    problems = []
    for name, text in helps.items():
        mine = [(h, t) for h, t in page if f"`{name}`" in h]
        if not mine:
            problems.append(f"no section of docs/cli.md is headed `{name}`")
            continue
        heading, section = mine[0]
        if name == "serve":  # its options are the server's configuration table (checked below)
            continue
        documented = set(_OPTION.findall(section))
        for option in sorted(help_options(text) - documented - shared_options):
            problems.append(f"{name}: {option} is in --help, not in the section {heading!r}")
        together = set().union(*(help_options(helps[n]) for n in re.findall(r"`([\w-]+)`", heading) if n in helps))
        for option in sorted(documented - together):
            problems.append(f"{heading!r} names {option}, which none of its subcommands has")
    assert not problems, "\n".join(problems)


def test_cli_page_exit_statuses_are_those_of_help() -> None:
    epilog = build_parser().format_help()
    said = re.search(r"Exit status: (.*)", " ".join(epilog.split()))
    assert said, "agora-token --help no longer states its exit statuses"
    codes = set(re.findall(r"\b(\d)\b(?= [a-z])", said.group(1)))
    table = next(text for heading, text in sections(CLI_PAGE) if "Exit status" in heading)
    documented = set(re.findall(r"^\| (\d) \|", table, re.M))
    assert codes and documented == codes, (codes, documented)


# --------------------------------------------------------------------------------------------------
# The server's configuration table against serve --help and the code

CONFIG_PAGE = DOCS / "server" / "configuration.md"
_VAR = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|\bPORT\b")


def _config_table() -> list[tuple[str, str]]:
    """(option cell, variable cell) of each row of the page's one table."""
    rows = []
    for line in CONFIG_PAGE.read_text(encoding="utf-8").splitlines():
        if line.startswith("|") and not line.startswith(("| option", "|---")):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            rows.append((cells[0], cells[1]))
    return rows


def _variables_in_code() -> set[str]:
    """Every environment variable name in the server's code and the credentials module: the string
    constants that look like one (the tuples of names in ``__all__`` and signal names aside)."""
    spec = importlib.util.find_spec("agora_token")
    assert spec is not None and spec.submodule_search_locations
    package = Path(next(iter(spec.submodule_search_locations)))
    names: set[str] = set()
    for path in [*sorted((package / "server").glob("*.py")), package / "credentials.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        exported = {
            elt.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign) and isinstance(node.value, (ast.List, ast.Tuple))
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
            for elt in node.value.elts
            if isinstance(elt, ast.Constant)
        }  # fmt: skip
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value not in exported:
                if re.fullmatch(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+", node.value) and not node.value.startswith("SIG"):
                    names.add(node.value)
    return names


def test_server_configuration_table_has_every_option_and_variable() -> None:
    pytest.importorskip("starlette", reason="the server extra is not installed")
    done = processes.run([sys.executable, "-m", "agora_token", "serve", "--help"], processes.server_env())
    assert done.returncode == 0, done.stderr
    options = help_options(done.stdout.split("environment variables:")[0])
    help_variables = set(_VAR.findall(done.stdout.split("environment variables:")[1]))
    # The secondary certificate is for verify and inspect (docs/cli.md): serve signs with one certificate.
    code_variables = _variables_in_code() - set(SECONDARY_CERTIFICATE_VARS)
    rows = _config_table()
    table_options = {o for cell, _ in rows for o in _OPTION.findall(cell)}
    table_variables = {v for _, cell in rows for v in _VAR.findall(cell)}
    assert help_variables <= code_variables | {"PORT"}, help_variables - code_variables
    assert not options - table_options, f"serve --help has {options - table_options}, the table has not"
    assert not (help_variables | code_variables) - table_variables, (
        f"the server reads {(help_variables | code_variables) - table_variables}, the table has not"
    )
    assert not table_options - options, f"the table names {table_options - options}, which serve lacks"
    assert not table_variables - help_variables - code_variables, (
        f"the table names {table_variables - help_variables - code_variables}, which the server does not read"
    )
