"""``flambeau.hookimpl``: the marker a plugin puts on its hook functions.

    import flambeau

    @flambeau.hookimpl
    def flambeau_backends():
        return [...]

The hooks a plugin may implement, and what each must return, are in ``flambeau.hookspecs``.
"""
from __future__ import annotations

import pluggy

#: pluggy's project name: hooks are ``flambeau_*`` and markers are keyed by it.
PROJECT_NAME = "flambeau"

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
