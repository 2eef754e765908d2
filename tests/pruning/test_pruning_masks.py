"""Masks: exact sparsity, exactness through training, deepcopy and save/reload."""

from __future__ import annotations

import copy
import io

import pytest
import torch
import torch.nn.functional as F

from optuna_hwprune.pruning import (
    apply_masks,
    build_model,
    count_nonzero_parameters,
    layer_sparsity,
    load_masked_state_dict,
    magnitude_masks,
    prunable_layers,
    remove_masks,
)


def _model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model("resnet20", num_classes=10)


def _train_steps(model: torch.nn.Module, steps: int) -> None:
    # Plain SGD with Nesterov momentum and weight decay on random images: every weight,
    # pruned or not, receives a non-zero gradient.
    generator = torch.Generator().manual_seed(1)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4
    )
    model.train()
    for _ in range(steps):
        x = torch.randn(8, 3, 32, 32, generator=generator)
        y = torch.randint(0, 10, (8,), generator=generator)
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def _zero_positions_hold(model: torch.nn.Module, masks: dict[str, torch.Tensor]) -> bool:
    layers = prunable_layers(model)
    return all(bool((layers[name].weight[mask == 0] == 0).all()) for name, mask in masks.items())


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.5, 0.731, 0.99])
def test_unstructured_mask_exact_count(sparsity: float) -> None:
    model = _model()
    masks = magnitude_masks(model, {"layer2.0.conv1": sparsity, "fc": sparsity})
    for name, mask in masks.items():
        numel = mask.numel()
        assert int((mask == 0).sum()) == round(sparsity * numel), name


def test_unstructured_mask_prunes_smallest_magnitudes() -> None:
    model = _model()
    weight = prunable_layers(model)["layer3.1.conv2"].weight.detach()
    mask = magnitude_masks(model, {"layer3.1.conv2": 0.6})["layer3.1.conv2"]
    assert weight[mask == 0].abs().max() <= weight[mask == 1].abs().min()


def test_structured_mask_removes_whole_filters() -> None:
    model = _model()
    weight = prunable_layers(model)["layer2.1.conv1"].weight.detach()
    mask = magnitude_masks(model, {"layer2.1.conv1": 0.25}, structured=True)["layer2.1.conv1"]
    per_filter = mask.flatten(1)
    assert bool(((per_filter == 0).all(dim=1) | (per_filter == 1).all(dim=1)).all())
    removed = (per_filter == 0).all(dim=1)
    assert int(removed.sum()) == round(0.25 * weight.shape[0])
    norms = weight.abs().flatten(1).sum(dim=1)
    assert norms[removed].max() <= norms[~removed].min()


def test_mask_keeps_at_least_one_weight() -> None:
    model = _model()
    masks = magnitude_masks(model, {"fc": 0.9999, "conv1": 0.9999}, structured=True)
    for mask in masks.values():
        assert int(mask.sum()) > 0


@pytest.mark.parametrize("value", [1.0, -0.1, 1.5])
def test_mask_rejects_sparsity_outside_range(value: float) -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        magnitude_masks(_model(), {"fc": value})


def test_mask_rejects_unknown_layer() -> None:
    with pytest.raises(ValueError, match="layer9.conv"):
        magnitude_masks(_model(), {"layer9.conv": 0.5})


def test_masks_exact_after_momentum_and_weight_decay() -> None:
    model = _model()
    masks = magnitude_masks(model, {name: 0.7 for name in prunable_layers(model)})
    apply_masks(model, masks)
    _train_steps(model, 6)
    assert _zero_positions_hold(model, masks)
    for name, value in layer_sparsity(model).items():
        assert value == pytest.approx(0.7, abs=1.0 / masks[name].numel() + 1e-9), name


def test_masks_exact_after_structured_training() -> None:
    model = _model()
    masks = magnitude_masks(model, {"layer1.0.conv1": 0.5, "layer3.2.conv2": 0.3}, structured=True)
    apply_masks(model, masks)
    _train_steps(model, 4)
    assert _zero_positions_hold(model, masks)


def test_trained_weights_change_only_where_kept() -> None:
    model = _model()
    before = prunable_layers(model)["layer2.0.conv2"].weight.detach().clone()
    masks = magnitude_masks(model, {"layer2.0.conv2": 0.5})
    apply_masks(model, masks)
    _train_steps(model, 3)
    after = prunable_layers(model)["layer2.0.conv2"].weight.detach()
    kept = masks["layer2.0.conv2"] == 1
    assert not torch.equal(after[kept], before[kept])
    assert bool((after[~kept] == 0).all())


def test_deepcopy_keeps_masks_independent() -> None:
    model = _model()
    masks = magnitude_masks(model, {"layer1.1.conv1": 0.8, "fc": 0.5})
    apply_masks(model, masks)
    clone = copy.deepcopy(model)
    original_state = {key: value.clone() for key, value in model.state_dict().items()}

    _train_steps(clone, 3)

    assert _zero_positions_hold(clone, masks)
    for key, value in model.state_dict().items():
        assert torch.equal(value, original_state[key]), key


def test_state_dict_reload_keeps_masks() -> None:
    model = _model()
    masks = magnitude_masks(model, {"layer2.2.conv1": 0.6, "conv1": 0.3})
    apply_masks(model, masks)
    _train_steps(model, 2)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)

    reloaded = load_masked_state_dict(_model(seed=5), torch.load(buffer, weights_only=True))

    x = torch.randn(4, 3, 32, 32)
    model.eval()
    reloaded.eval()
    assert torch.equal(model(x), reloaded(x))
    _train_steps(reloaded, 2)
    assert _zero_positions_hold(reloaded, masks)


def test_whole_module_pickle_keeps_masks() -> None:
    model = _model()
    masks = magnitude_masks(model, {"layer3.0.conv1": 0.9})
    apply_masks(model, masks)
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)

    reloaded = torch.load(buffer, weights_only=False)
    _train_steps(reloaded, 2)
    assert _zero_positions_hold(reloaded, masks)


def test_remove_masks_gives_plain_state_dict() -> None:
    model = _model()
    apply_masks(model, magnitude_masks(model, {"layer1.2.conv2": 0.5}))
    nonzero = count_nonzero_parameters(model)
    remove_masks(model)

    plain = _model(seed=3)
    plain.load_state_dict(model.state_dict())
    assert count_nonzero_parameters(plain) == nonzero
    assert layer_sparsity(plain)["layer1.2.conv2"] == pytest.approx(0.5, abs=1e-3)


def test_reapplying_masks_never_revives_weights() -> None:
    model = _model()
    first = magnitude_masks(model, {"layer2.1.conv2": 0.5})
    apply_masks(model, first)
    second = magnitude_masks(model, {"layer2.1.conv2": 0.6})
    apply_masks(model, second)
    weight = prunable_layers(model)["layer2.1.conv2"].weight
    assert bool((weight[first["layer2.1.conv2"] == 0] == 0).all())
    assert layer_sparsity(model)["layer2.1.conv2"] == pytest.approx(0.6, abs=1e-3)
