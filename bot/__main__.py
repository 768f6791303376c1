"""``python -m bot`` is the same as the ``newsbot`` console script."""

import sys

from bot.cli import main

sys.exit(main())
