"""The send path: every message the bot sends leaves through here.

``queue`` names a delivery and what can come of it (the statements that claim rows and
record outcomes are ``bot.storage.delivery_claims`` and ``bot.storage.delivery_outcomes``),
``kinds`` queues the messages other than posts, ``compose`` turns an article into a post
for one chat, ``render`` makes Telegram HTML that fits the limits, ``postform`` decides
photo or text, preview and sound, ``pacing`` and ``budget`` keep Telegram's speed limits,
and ``sender`` runs the loop. The Telegram side of a send (request, publisher, markup) is
``bot.telegram``.

Kept empty of imports so a pure submodule (``render``, ``pacing``) pulls in no I/O.
"""
