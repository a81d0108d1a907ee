"""`python -m kerasfactory` runs the command line."""

import sys

from kerasfactory.forecast.cli import main

if __name__ == "__main__":
    sys.exit(main())
