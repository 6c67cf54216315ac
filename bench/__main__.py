"""``python -m bench --scale quick|full [--out FILE] [--seed N]``."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from bench.corpus import DEFAULT_SEED
from bench.processes import BenchError
from bench.run import DEFAULT_CORPUS, DEFAULT_OUT, PLANS, execute


def main() -> int:
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", choices=sorted(PLANS), default="quick")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results JSON file")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="corpus seed")
    parser.add_argument(
        "--corpus-dir",
        type=Path,
        default=DEFAULT_CORPUS,
        help="where corpora are generated (and reused), and each run's logs",
    )
    args = parser.parse_args()
    try:
        execute(args.scale, seed=args.seed, out=args.out, corpus_root=args.corpus_dir)
    except BenchError as error:
        print(f"bench: failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
