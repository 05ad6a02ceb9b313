"""What the fuzz harnesses share: the test app's credentials, atheris' import instrumentation, the
replay of files and the entry point. Importing it does not import agora_token (the harness imports
the package inside ``instrumented()``, so atheris can instrument it).

The differential oracle itself is the test suite's, ``tests/differential.py`` (one check for both):
importing this module puts the checkout's root on ``sys.path`` so a harness can import it as
``tests.differential``, inside ``instrumented()`` as it imports the package.
"""

from __future__ import annotations

import contextlib
import os
import sys

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"

try:
    import atheris
except ImportError:  # replay mode works without it
    atheris = None

REPLAY = "--replay" in sys.argv

# Right after the harness's own directory (sys.path[0]), before site-packages, so no installed
# distribution's stray top-level "tests" package can stand in for the checkout's.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(1, ROOT)


def instrumented():
    """The context to import agora_token in: atheris' instrumentation when fuzzing, nothing on replay."""
    if atheris is not None and not REPLAY:
        return atheris.instrument_imports(include=["agora_token"])
    return contextlib.nullcontext()


def replay(test_one_input, paths, verdict: str) -> int:
    """Runs ``test_one_input`` on every file of ``paths`` (files, or directories of files)."""
    count = 0
    for path in paths:
        files = [os.path.join(path, f) for f in sorted(os.listdir(path))] if os.path.isdir(path) else [path]
        for name in files:
            with open(name, "rb") as handle:
                test_one_input(handle.read())
            count += 1
    print(f"replayed {count} inputs: {verdict}")
    return 0


def main(test_one_input, verdict: str) -> None:
    """``--replay FILES``, or a libFuzzer run under atheris with the rest of the arguments."""
    if REPLAY:
        sys.exit(replay(test_one_input, [a for a in sys.argv[1:] if a != "--replay"], verdict))
    if atheris is None:
        sys.exit("atheris is not installed: pip install atheris (or use --replay FILES)")
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
