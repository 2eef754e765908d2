from __future__ import annotations

import pytest

from optuna_hwprune.nasbench.space import (
    NUM_ARCHS,
    OPS,
    arch_to_index,
    arch_to_ops,
    index_to_arch,
    normalize_arch,
    ops_to_arch,
)

INDEX0 = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"


def test_round_trip_every_cell() -> None:
    seen = set()
    for index in range(NUM_ARCHS):
        arch = index_to_arch(index)
        assert arch_to_index(arch) == index
        assert ops_to_arch(arch_to_ops(arch)) == arch
        seen.add(arch)
    assert len(seen) == NUM_ARCHS


def test_index0_is_benchmark_cell() -> None:
    assert index_to_arch(0) == INDEX0
    assert arch_to_ops(INDEX0) == (
        "avg_pool_3x3",
        "nor_conv_1x1",
        "skip_connect",
        "nor_conv_1x1",
        "skip_connect",
        "skip_connect",
    )


def test_lookup_ignores_edge_order_and_spacing() -> None:
    shuffled = "| skip_connect~1 |nor_conv_1x1~0|+ |avg_pool_3x3~0| + |skip_connect~2|skip_connect~1|nor_conv_1x1~0|"
    assert arch_to_index(shuffled) == 0
    assert normalize_arch(shuffled) == INDEX0
    groups_reordered = "|nor_conv_1x1~0|skip_connect~1|skip_connect~2|+|avg_pool_3x3~0|+|skip_connect~1|nor_conv_1x1~0|"
    assert arch_to_index(groups_reordered) == 0


@pytest.mark.parametrize(
    "arch, fragment",
    [
        ("|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|", "conv_5x5"),
        ("|none~0|+|none~0|none~1|", "2"),
        ("|none~0|+|none~0|none~2|+|none~0|none~1|none~2|", "inputs"),
        ("|none~0|+|none~0|none~0|+|none~0|none~1|none~2|", "twice"),
        ("nonsense", "nonsense"),
    ],
)
def test_unknown_arch_raises_naming_it(arch: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        arch_to_index(arch)


@pytest.mark.parametrize("index", [-1, NUM_ARCHS, 10**6])
def test_unknown_index_raises_naming_it(index: int) -> None:
    with pytest.raises(ValueError, match=str(index)):
        index_to_arch(index)


def test_ops_to_arch_rejects_bad_tuples() -> None:
    with pytest.raises(ValueError, match="6 edge ops"):
        ops_to_arch(OPS[:5])
    with pytest.raises(ValueError, match="max_pool"):
        ops_to_arch(("max_pool",) * 6)
