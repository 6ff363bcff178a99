import sys

from reviewq.cli import main

# Guarded: a worker process started with "spawn" (the TUI's, for large parses) imports this
# module as `__mp_main__` and must not run the command line again.
if __name__ == "__main__":
    sys.exit(main())
