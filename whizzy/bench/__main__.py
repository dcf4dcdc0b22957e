"""`python -m whizzy.bench PHASE JSON_ARGS`: run one bench phase in this (child) process."""

import sys

from whizzy.bench.phases import child_main

sys.exit(child_main(sys.argv[1:]))
