"""``python -m notify_stub``: the stub as its own process (the benchmark, the fault suite, e2e tests)."""

from notify_stub.server import main

if __name__ == "__main__":
    main()
