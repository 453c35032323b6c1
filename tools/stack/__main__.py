"""``python -m tools.stack [--shell]``: see :mod:`tools.stack.runner`."""

import sys

from tools.stack.runner import main

if __name__ == "__main__":
    sys.exit(main())
