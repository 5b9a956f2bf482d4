"""The NumPy backend draws PyTorch's CPU random numbers: literal values printed by PyTorch 2.13
(``torch.manual_seed(s); torch.rand(...)``) must come out of flambeau for the same seed. Other
backends keep their own generators and skip these tests. Also ``flambeau.random``."""
from __future__ import annotations

import numpy as np
import pytest
from helpers import to_numpy

import flambeau
from flambeau.backend import TorchRandomMixin


@pytest.fixture(autouse=True)
def _torch_compatible_backend():
    if not isinstance(flambeau.backends.get_backend(flambeau.get_default_device()), TorchRandomMixin):
        pytest.skip("the backend under test has its own random numbers")


def close(t, ref, rtol=1e-6, atol=1e-6):
    np.testing.assert_allclose(to_numpy(t), np.asarray(ref), rtol=rtol, atol=atol)


def test_seeded_streams_match_pytorch():
    flambeau.manual_seed(0)
    close(flambeau.rand(5), [0.49625658988952637, 0.7682217955589294, 0.08847743272781372,
                             0.13203048706054688, 0.30742281675338745])
    # fewer than 16 normals: float64 Box-Muller pairs, the second value cached in the generator
    close(flambeau.randn(3), [0.5507453083992004, 0.2703641355037689, 0.6472479701042175])
    close(flambeau.randn(3), [0.24900221824645996, -0.33539512753486633, 0.45635277032852173])
    # 16 or more: blocks of 16 uniforms, the tail redrawn
    z = flambeau.randn(20)
    close(z[:3], [-1.6959311962127686, 0.5666506290435791, 0.7935083508491516])
    close(z[-3:], [-1.2001394033432007, -0.004785737954080105, -0.5180748105049133])
    assert flambeau.randint(0, 10, (8,)).tolist() == [1, 1, 0, 3, 6, 6, 7, 9]
    assert flambeau.randperm(10).tolist() == [6, 1, 4, 2, 0, 8, 3, 9, 5, 7]
    close(flambeau.rand(3, dtype=flambeau.float64),
          [0.9175058124899215, 0.5720397101981094, 0.48082942318390753], rtol=1e-15)
    close(flambeau.randn(17, dtype=flambeau.float64)[-3:],
          [0.8351475727042365, -0.29286146627375376, -0.5787436085078369], rtol=1e-12)


def test_inplace_fills_and_samplers_match_pytorch():
    flambeau.manual_seed(123)
    close(flambeau.empty(4).uniform_(-0.1, 0.1),
          [-0.04077761247754097, 0.0033124566543847322, -0.04966585710644722, 0.037711359560489655])
    close(flambeau.empty(3).normal_(2, 3), [0.8910964727401733, 1.2787461280822754, -1.590773105621338])
    assert flambeau.empty(10).bernoulli_(0.3).tolist() == [0, 0, 0, 1, 0, 1, 1, 1, 1, 0]
    w = flambeau.tensor([0.1, 0.2, 0.7])
    assert flambeau.multinomial(w, 2).tolist() == [2, 1]
    assert flambeau.multinomial(w, 4, replacement=True).tolist() == [1, 1, 2, 2]
    g = flambeau.Generator().manual_seed(7)
    close(flambeau.rand(2, generator=g), [0.5349225401878357, 0.19880318641662598])


def test_layer_init_and_dropout_match_pytorch():
    flambeau.manual_seed(0)
    lin = flambeau.nn.Linear(3, 2)
    close(lin.weight, [[-0.004322517663240433, 0.3097158372402191, -0.4751853346824646],
                       [-0.4248946011066437, -0.2223689705133438, 0.15482072532176971]])
    close(lin.bias, [-0.011439144611358643, 0.45777493715286255])
    flambeau.manual_seed(0)
    out = flambeau.nn.functional.dropout(flambeau.ones(8), 0.5)
    assert out.tolist() == [0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 2.0, 2.0]


def test_state_round_trip_keeps_the_cached_normal():
    flambeau.manual_seed(3)
    flambeau.randn(1)  # leaves the second sample of a pair cached
    state = flambeau.get_rng_state()
    a = flambeau.randn(5)
    flambeau.set_rng_state(state)
    assert flambeau.equal(a, flambeau.randn(5))


def test_random_module():
    import flambeau.random as R

    R.manual_seed(5)
    assert R.initial_seed() == 5 == flambeau.initial_seed()
    first = flambeau.rand(3)
    R.manual_seed(5)
    with R.fork_rng():
        flambeau.manual_seed(99)
        flambeau.rand(10)
    assert flambeau.equal(flambeau.rand(3), first)  # the block left the outer stream alone
    with R.fork_rng(enabled=False):
        flambeau.rand(1)
    s = R.get_rng_state()
    x = flambeau.rand(2)
    R.set_rng_state(s)
    assert flambeau.equal(x, flambeau.rand(2))
    assert R.seed() == R.initial_seed()
    with pytest.raises(RuntimeError, match="expected a state"):
        R.set_rng_state(flambeau.zeros(3, dtype=flambeau.uint8))
