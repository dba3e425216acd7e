"""``python -m minigen.assignments list | build | grade``: see ``minigen.assignments.cli``."""
from minigen.assignments.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
