import sys

# Guarded: a worker process started with "spawn" (the TUI's, for large parses) imports this
# module as `__mp_main__` and must not run the command line again.
if __name__ == "__main__":
    if "scan" in sys.argv:
        import gc

        # A one-shot scan: no collections from the start on (see `cli.main`, which pauses the
        # collector for the command itself when it is called otherwise).
        gc.disable()
    # A warm `scan --json` is answered before argparse and the context load
    # (`reviewq.workflow.scan_fast`); anything it cannot answer for sure runs the full CLI.
    if "scan" in sys.argv and "--json" in sys.argv:
        from reviewq.workflow.scan_fast import try_replay

        if try_replay(sys.argv[1:]):
            sys.exit(0)
    from reviewq.cli import main

    # A scan ends inside `main` with `os._exit` once flushed when nothing waits (`finish_now`).
    sys.exit(main())
