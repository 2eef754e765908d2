"""Quality indicators for sets of objective vectors: hypervolume and IGD.

All functions take minimisation vectors. Negate maximised objectives before calling them.
"""

from __future__ import annotations

import numpy as np


def pareto_front_mask(points: np.ndarray) -> np.ndarray:
    """Mark the non-dominated rows of a set of minimisation vectors.

    Args:
        points: Array of shape ``(n_points, n_objectives)``.

    Returns:
        Boolean array of shape ``(n_points,)``; exact duplicates of a front point are all marked.
    """
    points = np.asarray(points, dtype=float)
    n_points = len(points)
    mask = np.ones(n_points, dtype=bool)
    for i in range(n_points):
        if not mask[i]:
            continue
        no_worse = np.all(points <= points[i], axis=1)
        better = np.any(points < points[i], axis=1)
        if np.any(no_worse & better):
            mask[i] = False
    return mask


def _hypervolume_2d(points: np.ndarray, reference_point: np.ndarray) -> float:
    order = np.lexsort((points[:, 1], points[:, 0]))
    volume = 0.0
    best_second = reference_point[1]
    for first, second in points[order]:
        if second < best_second:
            volume += (reference_point[0] - first) * (best_second - second)
            best_second = second
    return float(volume)


def _hypervolume_slicing(points: np.ndarray, reference_point: np.ndarray) -> float:
    # Slices along the last objective: between two consecutive levels the dominated region is
    # the (n-1)-dimensional hypervolume of the points at or below the lower level.
    if points.shape[1] == 2:
        return _hypervolume_2d(points, reference_point)

    order = np.argsort(points[:, -1])
    points = points[order]
    volume = 0.0
    for i in range(len(points)):
        upper = points[i + 1, -1] if i + 1 < len(points) else reference_point[-1]
        depth = upper - points[i, -1]
        if depth <= 0.0:
            continue
        prefix = points[: i + 1, :-1]
        if prefix.shape[1] > 2:
            # The 2-D sweep skips dominated points by itself; deeper levels filter them first.
            prefix = prefix[pareto_front_mask(prefix)]
        volume += depth * _hypervolume_slicing(prefix, reference_point[:-1])
    return float(volume)


def hypervolume(points: np.ndarray, reference_point: np.ndarray) -> float:
    """Compute the hypervolume dominated by ``points`` and bounded by ``reference_point``.

    Points that do not strictly dominate the reference point contribute nothing. Two
    objectives take a sort-and-sweep in ``O(n log n)``. More objectives take recursive slicing
    along the last objective, which is fast enough for fronts of a few hundred points in three
    or four objectives.

    Args:
        points: Minimisation vectors, shape ``(n_points, n_objectives)``.
        reference_point: Shape ``(n_objectives,)``; every coordinate must be finite.

    Returns:
        The hypervolume, 0.0 for an empty set.
    """
    points = np.asarray(points, dtype=float).reshape(-1, len(reference_point))
    reference_point = np.asarray(reference_point, dtype=float)
    if not np.all(np.isfinite(reference_point)):
        raise ValueError(f"reference_point must be finite, got {reference_point.tolist()}.")

    inside = np.all(points < reference_point, axis=1) & np.all(np.isfinite(points), axis=1)
    points = points[inside]
    if len(points) == 0:
        return 0.0
    if points.shape[1] == 1:
        return float(reference_point[0] - points[:, 0].min())

    points = points[pareto_front_mask(points)]
    return _hypervolume_slicing(points, reference_point)


def inverted_generational_distance(points: np.ndarray, reference_front: np.ndarray) -> float:
    """Compute IGD: the mean distance from each reference front point to its nearest point.

    Args:
        points: Approximation set, shape ``(n_points, n_objectives)``.
        reference_front: Points of the true (or best known) front, same number of columns.

    Returns:
        The mean Euclidean distance, ``inf`` for an empty approximation set.
    """
    points = np.asarray(points, dtype=float)
    reference_front = np.asarray(reference_front, dtype=float)
    if points.size == 0:
        return float("inf")
    distances = np.linalg.norm(reference_front[:, None, :] - points[None, :, :], axis=2)
    return float(distances.min(axis=1).mean())
