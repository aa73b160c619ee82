"""``python -m cors_lab``: the same as the ``cors-lab`` command."""

import sys

from cors_lab.cli import main

sys.exit(main())
