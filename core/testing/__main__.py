"""``python -m flambeau.testing --device <type> [pytest arguments]``: run the conformance suite.

The exit code is pytest's (0 when every test passed, 1 when some failed); 4 when pytest or
hypothesis is missing (install them with ``pip install "flambeau[test]"``) or no backend
serves the device.
"""
from __future__ import annotations

import argparse
import sys

from . import run


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m flambeau.testing",
        description="Run flambeau's backend conformance suite on one device. Arguments it does "
        "not know are passed to pytest (-x, -k EXPR, -q, ...).",
    )
    parser.add_argument("--device", required=True,
                        help="the device to test: a device type (cpu, cuda, mydev) or a device "
                        "(cuda:1)")
    parser.add_argument("--backend", metavar="MODULE:CLASS",
                        help="register this Backend subclass first (a backend that is not "
                        "installed as a plugin yet)")
    args, pytest_args = parser.parse_known_args(argv)
    return run(args.device, pytest_args, backend=args.backend)


if __name__ == "__main__":
    sys.exit(main())
