"""UI strings for the bot's five languages (en, ru, ka, hy, az) with plural forms and dates.

The messages live in ``locales/<lang>/messages.po``; see :mod:`bot.i18n.translator`.
"""

from bot.i18n.translator import COMMANDS, SafeHTML, TranslationError, Translator

__all__ = ["COMMANDS", "SafeHTML", "TranslationError", "Translator"]
