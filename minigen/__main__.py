"""``python -m minigen ...``: the same as the ``minigen`` command (see ``minigen.cli``)."""
from minigen.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
