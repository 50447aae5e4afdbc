"""The numerical-vs-backprop sweep behind `tinygrad-ko bench` and the benchmarks."""

import json

import numpy as np
import pytest

from tinygrad_ko.bench import Point, as_json, machine, markdown, plot_costs, slopes, sweep


def test_machine_names_cores_numpy_and_blas():
    line = machine()
    assert "cores" in line and f"NumPy {np.__version__}" in line and "Python" in line


def test_a_small_sweep_measures_both_gradients_and_how_far_apart_they_are():
    rng = np.random.default_rng(0)
    x, t = rng.random((8, 784)).astype(np.float32), rng.integers(0, 10, 8)
    points = sweep(x, t, hidden_sizes=(1, 2), batch_sizes=(4,), report=lambda _: None)
    assert [(p.hidden, p.batch, p.params) for p in points] == [(1, 4, 805), (2, 4, 1600)]
    for p in points:
        assert p.numerical_seconds > 0 and p.backprop_ms > 0
        assert p.ratio == pytest.approx(p.numerical_seconds / (p.backprop_ms / 1e3))
        assert p.relative_error < 1e-6  # float64 both ways


def fake_points():
    """Costs that grow exactly as params^2 (numerical) and params^0.5 (backprop)."""
    return [
        Point(h, b, n, 1e-6 * n**2, 1e-3 * n**0.5, 1.0, 1e-9)
        for b in (10, 100)
        for h, n in ((1, 100), (10, 1000), (100, 10000))
    ]


def test_slopes_recover_how_each_cost_grows():
    for numerical, backprop in slopes(fake_points()).values():
        assert numerical == pytest.approx(2.0) and backprop == pytest.approx(0.5)


def test_the_table_json_and_plot(tmp_path):
    points = fake_points()
    table = markdown(points).splitlines()
    assert table[0].startswith("| hidden | batch | parameters |") and len(table) == 2 + len(points)
    data = json.loads(json.dumps(as_json(points)))
    assert len(data["points"]) == 6 and data["slopes"]["10"]["numerical"] == pytest.approx(2.0)
    plot_costs(points, tmp_path / "costs.png")
    assert (tmp_path / "costs.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
