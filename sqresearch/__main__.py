import sys

from sqresearch.cli.main import main

sys.exit(main())
