"""Outbox kinds other than posts: what they are and how they rank (``bot.storage.delivery_kinds``
queues them and reads what the sender needs).

Every message leaves through the outbox (DESIGN.md): besides posts, the queue holds

- ``digest`` and ``weekly``: a reader's daily digest (one row per message when it is
  split) and the weekly most-read list, their text rendered when queued (``body``);
- ``alert``: a batch of editors' alerts for the editors' chat, text too;
- ``edit``, ``delete`` and ``pin``: a correction, a removal or a breaking post's pin,
  acting on the message of the post row ``target_id``.

They share the sender, its pacing and budget, the publisher's one reading of Telegram's
answers (429, 403, migration, bad HTML, a message gone) and the queue's guarantees: a
row is queued in the transaction that decides it (a digest with its day's claim, an
edit with the correction, a pin with its post's outcome) and marked in flight before
its request, so nothing is lost on the way and nothing is sent twice.
"""

from __future__ import annotations

POST = "post"
DIGEST = "digest"
WEEKLY = "weekly"
ALERT = "alert"
EDIT = "edit"
DELETE = "delete"
PIN = "pin"
#: Kinds whose text is queued with them (``body``).
TEXT_KINDS = (DIGEST, WEEKLY, ALERT)
#: Kinds that act on a post's message (``target_id``).
TARGET_KINDS = (EDIT, DELETE, PIN)

#: Priorities (lower goes first; a chat's posts are 0 for channels, 1 groups, 2 private,
#: breaking news 3 less). Editors' alerts are few and awaited;
#: a pin follows its breaking post at once; digests and weekly lists come after the
#: instant posts of the moment. Edits and deletions take their chat's priority.
PRIORITY = {ALERT: 0, PIN: -4, DIGEST: 3, WEEKLY: 3}
#: ``chats.origin`` of the row made for the editors' chat when it is no reader's chat.
EDITORS = "editors"
