"""``python -m claimledger.cli``: the command line."""

from claimledger.cli.main import main

raise SystemExit(main())
