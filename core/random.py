"""``flambeau.random``: the default generator's seed and state, as ``torch.random``.

>>> import flambeau
>>> flambeau.random.manual_seed(0)                  # doctest: +SKIP
>>> with flambeau.random.fork_rng():
...     noise = flambeau.rand(3)                    # draws here leave the outer stream alone
>>> after = flambeau.rand(3)                        # same as without the block
"""
from __future__ import annotations

import contextlib

from ._random import (  # noqa: F401
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)

__all__ = [
    "Generator", "default_generator", "fork_rng", "get_rng_state", "initial_seed", "manual_seed",
    "seed", "set_rng_state",
]


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",
             device_type="cuda"):
    """Run the block with a copy of the random state: on exit, the CPU generator (and the
    default generators of the other device types flambeau has used) get back the state they
    had on entry, as ``torch.random.fork_rng``. ``devices`` is accepted for compatibility."""
    if not enabled:
        yield
        return
    from . import _random

    saved = []
    for g in list(_random._defaults.values()):
        state = g.get_state() if g._state is not None or g is default_generator else None
        saved.append((g, g._seed, state))
    try:
        yield
    finally:
        for g, seed_value, state in saved:
            if state is None:
                g.manual_seed(seed_value)  # never drew: back to its unused seeded state
            else:
                g._seed = seed_value
                g.set_state(state)
