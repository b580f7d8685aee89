"""Every reader of outside data, fuzzed: 1,500 mutated inputs per target (about a minute for all of them on
2 cores), each of which must load or raise the reader's typed error. The same targets run longer with
`python -m tests.fuzz.readers --inputs N --seed S`; the seed here is the first one, 0, and
LUDOFORGE_FUZZ_SEED picks another."""

from __future__ import annotations

import os

import pytest

from tests.fuzz.readers import fuzz, targets

INPUTS = 1500
SEED = int(os.environ.get("LUDOFORGE_FUZZ_SEED", "0"))


@pytest.mark.parametrize("target", targets(), ids=lambda t: t.name)
def test_no_mutated_input_escapes_as_an_untyped_exception(target, tmp_path) -> None:
    n, findings = fuzz(target, INPUTS, SEED, keep=tmp_path)
    assert n == INPUTS
    assert not findings, "\n".join(f"{f.error} (input: {f.input_file})" for f in findings[:10])
