"""`python -m rnncourse` is the `rnncourse` command."""

import sys

from rnncourse.cli import main

sys.exit(main())
