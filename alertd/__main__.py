"""``python -m alertd``."""

import sys

from alertd.cli import main

sys.exit(main())
