"""``python -m alertd``."""

import sys

from alertd.cli.main import main

sys.exit(main())
