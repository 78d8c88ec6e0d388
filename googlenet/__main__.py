"""``python -m googlenet``: the same as the ``googlenet`` console script."""

import sys

from .cli import main

sys.exit(main())
