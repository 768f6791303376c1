"""Outbound HTTP: which origins the bot may reach, checked when each connection is made.

A feed is outside input: its links, the pages they lead to and every redirect could
point the bot at an address inside the operator's network, and what the bot reads
there would be published. :mod:`bot.net.addresses` says which addresses are never
reached, :mod:`bot.net.policy` which URLs may be fetched at all, and
:mod:`bot.net.guard` enforces both on the connections aiohttp opens.
"""
