"""``python -m friendly_errors`` runs the same command as ``friendly-errors``."""

import sys

from friendly_errors.cli import main

sys.exit(main())
