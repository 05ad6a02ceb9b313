"""pytest-benchmark: agora-token (C and pure backends; compat and Pythonic API) against agoraiotools
0.3.4 (Agora's official python3 code) and agora-token-builder 1.0.0 (006 only).

Each row times ``--token-rounds`` rounds (after ``--token-warmup`` untimed ones); a round builds
``--token-batch`` tokens, each from a fresh uid / RTM user id. Per-token time = round time / batch.
Run ``python benchmarks/run.py`` for the table with ratios, or ``pytest benchmarks/bench_tokens.py``.
"""

from __future__ import annotations

import impls
import pytest

pytest.importorskip("pytest_benchmark")
pytest.importorskip("agoraiotools")
pytest.importorskip("agora_token_builder")


@pytest.mark.parametrize(
    "workload,impl", impls.cases(), ids=[f"{w}|{i}" for w, i in impls.cases()]
)  # fmt: skip
def test_token(benchmark, request, workload: str, impl: str) -> None:
    backend = impls.backend_of(impl)
    if backend == "c" and impls.KERNELS["c"] is None:
        pytest.skip("the C extension is not built")
    rounds = request.config.getoption("--token-rounds")
    batch = request.config.getoption("--token-batch")
    warmup = request.config.getoption("--token-warmup")
    run = impls.batch_function(workload, impl)
    one = impls.one_function(workload, impl)
    benchmark.group = workload
    benchmark.extra_info.update({"workload": workload, "impl": impl, "batch": batch, "backend": backend or "peer"})
    with impls.use_backend(backend):
        benchmark.pedantic(
            run,
            setup=lambda: ((impls.make_inputs(workload, batch),), {}),
            rounds=rounds,
            warmup_rounds=warmup,
            iterations=1,
        )
        # The timed code made real tokens: check one from the same backend.
        x = impls.make_inputs(workload, 1)[0]
        impls.check_token(workload, one(x), x)
