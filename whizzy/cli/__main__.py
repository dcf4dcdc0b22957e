"""`python -m whizzy.cli ...`: the same as the `whizzy` command."""

import sys

from whizzy.cli import main

sys.exit(main())
