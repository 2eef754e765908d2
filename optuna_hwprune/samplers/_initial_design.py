"""Space-filling first generation: a Latin hypercube plus uniform profiles.

Each parameter gets its own random permutation of ``size`` strata, derived from the sampler
seed and the parameter name, and trial ``number`` takes stratum ``number % size``. The design
is therefore a Latin hypercube that needs no knowledge of the full search space in advance,
works with parameters that appear only in some trials, and gives every worker process the same
design when they share a seed. Every fourth slot is a *uniform profile* instead: all numeric
parameters take the same relative position, which for per-layer sparsities is the classic
"same sparsity in every layer" baseline, spread over the whole range.
"""

from __future__ import annotations

import zlib

import numpy as np

_PROFILE_KEY = "\x00uniform-profile"
_PROFILE_PERIOD = 2


def _stratum_unit(
    seed: int, key: str, slot: int, size: int, round_index: int, rng: np.random.Generator
) -> float:
    key_hash = zlib.crc32(key.encode("utf-8"))
    permutation = np.random.default_rng([seed, key_hash, round_index]).permutation(size)
    return float((permutation[slot] + rng.random()) / size)


def is_profile_slot(number: int, size: int) -> bool:
    """Return whether trial ``number`` of the first generation is a uniform-profile slot."""
    return size >= _PROFILE_PERIOD and (number % size) % _PROFILE_PERIOD == _PROFILE_PERIOD - 1


def design_unit(
    seed: int,
    name: str,
    number: int,
    size: int,
    numeric: bool,
    rng: np.random.Generator,
) -> float:
    """Return the unit coordinate of parameter ``name`` for trial ``number`` of the design.

    Args:
        seed: Design seed shared by every worker of the study.
        name: Parameter name.
        number: Trial number; trials beyond ``size`` start a new, independently permuted round.
        size: Number of slots in one round of the design.
        numeric: Whether the parameter is numeric (only numeric parameters follow profiles).
        rng: Generator for the position inside the stratum.

    Returns:
        A coordinate in ``[0, 1)``.
    """
    slot = number % size
    round_index = number // size
    if numeric and is_profile_slot(number, size):
        n_profiles = size // _PROFILE_PERIOD
        profile_rng = np.random.default_rng([seed, round_index, slot])
        return _stratum_unit(
            seed, _PROFILE_KEY, slot // _PROFILE_PERIOD, n_profiles, round_index, profile_rng
        )
    return _stratum_unit(seed, name, slot, size, round_index, rng)
