"""The NAS-Bench-201 cell search space: arch string <-> op tuple <-> benchmark index.

A cell is a DAG over four nodes. Every node ``i`` (1..3) sums one operation applied to each
earlier node ``j < i``, so a cell has six edges, each carrying one of five operations:
``5 ** 6 = 15,625`` cells. NAS-Bench-201 writes a cell as

    |op~0|+|op~0|op~1|+|op~0|op~1|op~2|

where ``op~j`` inside the ``i``-th group is the edge ``i <- j``. The op tuples used here follow
that string, so edges come in the order ``1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2``.

The benchmark index of a cell is its row in NAS-Bench-201 and HW-NAS-Bench. That order is not
a simple enumeration of op tuples, so it is read from the bundled table.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import numpy as np

# The five candidate operations, in the id order that HW-NAS-Bench's CSV export uses
# (0=skip_connect, 1=none, 2=nor_conv_3x3, 3=nor_conv_1x1, 4=avg_pool_3x3).
OPS: tuple[str, ...] = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")

# Edges (target node, source node) in arch-string order.
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))

NUM_NODES = 4
NUM_ARCHS = len(OPS) ** len(EDGES)

_TOKEN = re.compile(r"^([a-z0-9_]+)~(\d+)$")


def edge_name(edge: int) -> str:
    """Return the name of edge ``edge`` (0..5) as ``"<target>_<source>"``, e.g. ``"2_1"``."""
    target, source = EDGES[edge]
    return f"{target}_{source}"


def arch_to_ops(arch: str) -> tuple[str, ...]:
    """Parse a NAS-Bench-201 arch string into its six edge operations.

    Whitespace, the order of the node groups and the order of edges inside a group do not
    matter: a group is identified by its number of inputs, and each edge by its source node.

    Args:
        arch: An arch string such as ``"|nor_conv_3x3~0|+|none~0|skip_connect~1|+|..."``.

    Returns:
        The operations of edges ``1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2``.

    Raises:
        ValueError: If ``arch`` is not a valid NAS-Bench-201 cell.
    """
    if not isinstance(arch, str):
        raise ValueError(f"arch must be a NAS-Bench-201 arch string, got {type(arch).__name__}")
    compact = "".join(arch.split())
    groups = [group for group in compact.split("+") if group.strip("|")]
    if len(groups) != NUM_NODES - 1:
        raise ValueError(
            f"invalid NAS-Bench-201 arch string {arch!r}: expected {NUM_NODES - 1} node groups "
            f"separated by '+', found {len(groups)}"
        )

    by_node: dict[int, dict[int, str]] = {}
    for group in groups:
        tokens = [token for token in group.split("|") if token]
        edges: dict[int, str] = {}
        for token in tokens:
            match = _TOKEN.match(token)
            if match is None:
                raise ValueError(f"invalid edge {token!r} in arch string {arch!r}; expected 'op~j'")
            op, source = match.group(1), int(match.group(2))
            if op not in OPS:
                raise ValueError(f"unknown operation {op!r} in arch string {arch!r}; valid: {OPS}")
            if source in edges:
                raise ValueError(f"edge from node {source} appears twice in a group of {arch!r}")
            edges[source] = op
        node = len(edges)
        if set(edges) != set(range(node)) or node in by_node:
            raise ValueError(
                f"invalid NAS-Bench-201 arch string {arch!r}: node groups must have inputs "
                "{0}, {0, 1} and {0, 1, 2}"
            )
        by_node[node] = edges

    return tuple(by_node[target][source] for target, source in EDGES)


def ops_to_arch(ops: Sequence[str]) -> str:
    """Format six edge operations (arch-string edge order) as the canonical arch string.

    Raises:
        ValueError: If ``ops`` does not hold six valid operation names.
    """
    ops = tuple(ops)
    if len(ops) != len(EDGES):
        raise ValueError(f"a NAS-Bench-201 cell has {len(EDGES)} edge ops, got {len(ops)}: {ops}")
    for op in ops:
        if op not in OPS:
            raise ValueError(f"unknown operation {op!r}; valid: {OPS}")
    groups = []
    for target in range(1, NUM_NODES):
        tokens = [f"{op}~{source}" for op, (t, source) in zip(ops, EDGES) if t == target]
        groups.append("|" + "|".join(tokens) + "|")
    return "+".join(groups)


def normalize_arch(arch: str) -> str:
    """Return the canonical form of ``arch`` (sorted edges, no whitespace)."""
    return ops_to_arch(arch_to_ops(arch))


def arch_to_index(arch: str) -> int:
    """Return the NAS-Bench-201 index (0..15624) of ``arch``, in any edge order or spacing.

    Raises:
        ValueError: If ``arch`` is not a valid cell.
    """
    codes = _ops_to_codes(arch_to_ops(arch))
    return int(_index_of_code()[_code_key(codes)])


def index_to_arch(index: int) -> str:
    """Return the canonical arch string of NAS-Bench-201 index ``index``.

    Raises:
        ValueError: If ``index`` is not an integer in ``[0, 15624]``.
    """
    return ops_to_arch(index_to_ops(index))


def index_to_ops(index: int) -> tuple[str, ...]:
    """Return the six edge operations of NAS-Bench-201 index ``index``."""
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise ValueError(f"architecture index must be an integer, got {index!r}")
    if not 0 <= int(index) < NUM_ARCHS:
        raise ValueError(f"architecture index {index} is out of range [0, {NUM_ARCHS - 1}]")
    return tuple(OPS[code] for code in op_codes()[int(index)])


@functools.lru_cache(maxsize=1)
def op_codes() -> np.ndarray:
    """Return the op ids (into :data:`OPS`) of every cell, shape ``15625 x 6``, by index."""
    from optuna_hwprune.nasbench.table import load_table_arrays

    codes = load_table_arrays()["ops"]
    codes.setflags(write=False)
    return codes


def _ops_to_codes(ops: Sequence[str]) -> tuple[int, ...]:
    return tuple(OPS.index(op) for op in ops)


def _code_key(codes: Sequence[int]) -> int:
    key = 0
    for code in codes:
        key = key * len(OPS) + int(code)
    return key


@functools.lru_cache(maxsize=1)
def _index_of_code() -> np.ndarray:
    codes = op_codes().astype(np.int64)
    keys = np.zeros(len(codes), dtype=np.int64)
    for column in range(codes.shape[1]):
        keys = keys * len(OPS) + codes[:, column]
    index_of_key = np.full(NUM_ARCHS, -1, dtype=np.int64)
    index_of_key[keys] = np.arange(len(codes))
    if (index_of_key < 0).any():
        raise RuntimeError("the bundled NAS-Bench-201 table does not list every cell exactly once")
    return index_of_key
