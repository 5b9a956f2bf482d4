"""Smoke test of the main job, ``python -m flambeau.examples.digits``, on the device under test.

The full run (20 epochs, >= 97 % held-out accuracy) is what the README's first command does;
here two short epochs check that every stage runs and writes its files.
"""
from __future__ import annotations

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("tqdm")
pytest.importorskip("matplotlib")


def test_digits_job_runs_end_to_end(tmp_path, device):
    from flambeau.examples import digits

    out = tmp_path / "run"
    res = digits.main(["--epochs", "2", "--quiet", "--device", device, "--out", str(out),
                       "--labels-per-class", "5"])
    assert (out / "digits_cnn.safetensors").stat().st_size > 0
    assert (out / "pretrained_0to4.safetensors").stat().st_size > 0
    png = (out / "training_curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # two epochs already beat chance (10 %) by far
    assert res["test_acc"] > 0.5
    assert 0.0 <= res["transfer_acc"] <= 1.0 and 0.0 <= res["scratch_acc"] <= 1.0


def test_saved_model_loads_back(tmp_path, device):
    import flambeau
    from flambeau.examples import digits

    out = tmp_path / "run"
    digits.main(["--epochs", "1", "--quiet", "--device", device, "--out", str(out),
                 "--labels-per-class", "2"])
    model = digits.DigitsCNN()
    state = flambeau.load(str(out / "digits_cnn.safetensors"))
    model.load_state_dict(state)
    assert set(state) == set(model.state_dict())
