"""Typed SQLAlchemy 2 models.

Chat ids are BIGINT (Telegram ids exceed 32 bits). Times are naive UTC in the
database (DESIGN.md decision 9); the repositories convert at the edge.

The models live in one module per aggregate; this package re-exports them so that
Alembic's env and every importer keep using ``bot.storage.models``.
"""

from bot.storage.models.base import NAMING, Base
from bot.storage.models.chats import (
    ChatKeywordRow,
    ChatLanguageRow,
    ChatManagerRow,
    ChatRegionRow,
    ChatRow,
    ChatTopicRow,
)
from bot.storage.models.feeds import (
    ArticleRegionRow,
    ArticleRow,
    ArticleTopicRow,
    FeedRow,
    MostReadRow,
)
from bot.storage.models.operations import (
    AuditRow,
    HealthProbeRow,
    IngestReplayRow,
    LeaseRow,
)
from bot.storage.models.outbox import (
    DUE_CONDITION,
    NOT_PENDING,
    InboxRow,
    OutboxRow,
    SendBudgetRow,
    SendReplyRow,
    not_pending,
)
from bot.storage.models.revenue import (
    ClickDayRow,
    ClickRow,
    DonationRow,
)

__all__ = [
    "DUE_CONDITION",
    "NAMING",
    "NOT_PENDING",
    "ArticleRegionRow",
    "ArticleRow",
    "ArticleTopicRow",
    "AuditRow",
    "Base",
    "ChatKeywordRow",
    "ChatLanguageRow",
    "ChatManagerRow",
    "ChatRegionRow",
    "ChatRow",
    "ChatTopicRow",
    "ClickDayRow",
    "ClickRow",
    "DonationRow",
    "FeedRow",
    "HealthProbeRow",
    "InboxRow",
    "IngestReplayRow",
    "LeaseRow",
    "MostReadRow",
    "OutboxRow",
    "SendBudgetRow",
    "SendReplyRow",
    "not_pending",
]
