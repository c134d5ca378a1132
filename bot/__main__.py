"""``python -m bot``: the command line (bot/cli.py)."""

import os

# numpy computes one matrix-vector product per embedded question here (bot/search/semantic.py).
# Above about 1,000 entry texts OpenBLAS runs it on every core, and its idle threads spin on
# the core the embedding worker needs: CPU per message doubled in bench/e2e.py for no gain in
# latency. An operator's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from bot.cli import main

main()
