import sys

from reviewq.cli import main

sys.exit(main())
