"""Callback action names a screen of one capability puts on a button that another
capability's handler takes: the only way capabilities refer to each other.

Names are two characters (a capability's letter, then an upper-case letter); each
capability registers one handler per name it takes (``handlers.buttons.tap_handlers``).
"""

from __future__ import annotations

#: The reader's settings screens (``handlers.settings``): ``sO.<screen>`` opens one.
OPEN_SETTINGS = "sO"
#: Topics and keywords (``handlers.follows``): the screen, another edition followed too
#: (``fA.<language>``, on the language screen), and taking back what a deep link added
#: (``fU.<language>.<region or k>``).
OPEN_FOLLOWS = "fO"
ALSO_LANGUAGE = "fA"
UNDO_LANGUAGE = "fU"
#: Any time zone (``handlers.timezones``): the countries, page ``zC.<page>``.
OTHER_ZONE = "zC"
#: Donate with Telegram Stars (``handlers.donate`` shows it, ``handlers.payments`` sends
#: the invoice): the argument is the index of the configured amount.
STARS_ACTION = "dS"
