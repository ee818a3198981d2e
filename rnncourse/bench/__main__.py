"""`python -m rnncourse.bench ...`: the same as `rnncourse bench ...` (rnncourse.commands.bench)."""

import sys

from rnncourse.cli import main

raise SystemExit(main(["bench", *sys.argv[1:]]))
