"""``python -m sqresearch.simulate --out data``: write the demo files."""

from sqresearch.simulate.cli import main

raise SystemExit(main())
