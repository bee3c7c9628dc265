"""``python -m bench``: every benchmark (see bench/run_all.py)."""

import sys

from .run_all import main

sys.exit(main())
