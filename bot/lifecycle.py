"""The Telegram side of ``newsbot run``: connect (retrying while Telegram is away), then
receive and handle updates until asked to stop.

The composition root passes in what only it may import (the handlers' menu publisher).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from telegram.ext import Application

from bot.config import Settings
from bot.startup import connect_telegram

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
Step = Callable[[], Awaitable[None]]


async def wait_for_stop(stop: asyncio.Event, connecting: asyncio.Task[None]) -> None:
    """Until SIGINT/SIGTERM; a start failure of the Telegram side (a rejected token) ends
    the run early with its error."""
    stopping = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait({stopping, connecting}, return_when=asyncio.FIRST_COMPLETED)
        if connecting in done:
            connecting.result()  # raises the start failure, if any
            await stopping
    finally:
        stopping.cancel()


async def greet_telegram(
    app: AnyApplication, settings: Settings, publish_menus: Step, allowed_updates: list[str]
) -> None:
    """Initialize PTB (getMe), publish the menus, and set or delete the webhook (asking
    for the update types the handlers use).

    Every step is safe to repeat, so a failure part-way is retried from the start.
    """
    await app.initialize()
    await publish_menus()
    if settings.webhook_url:
        await app.bot.set_webhook(
            settings.webhook_url,
            secret_token=settings.webhook_secret.get_secret_value()
            if settings.webhook_secret
            else None,
            allowed_updates=allowed_updates,
            max_connections=settings.webhook_max_connections,
        )
    else:  # long polling: Telegram refuses getUpdates while a webhook is set
        await app.bot.delete_webhook(drop_pending_updates=False)


async def bring_up_telegram(
    application: AnyApplication | None,
    serving: AnyApplication | None,
    greet: Step,
    serve: Callable[[asyncio.Event], Awaitable[None]],
    stop: asyncio.Event,
    ready: asyncio.Event,
) -> None:
    """Connect to Telegram, retrying while it is unreachable, then let the sender go
    (``ready``) and, when this process serves updates, ``serve`` them until ``stop``.

    Feeds are polled meanwhile, filling the outbox.
    """
    if application is None:  # dry run: nothing to connect to
        ready.set()
        return
    if serving is None:  # worker: the sender's bot only
        if await connect_telegram(application.initialize, stop):
            ready.set()
        return
    if not await connect_telegram(greet, stop):
        return
    await serving.start()
    ready.set()
    await serve(stop)


async def stop_updates(app: AnyApplication | None) -> None:
    if app is None:
        return
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()


async def first_of(*events: asyncio.Event) -> None:
    """Wait until any of ``events`` is set."""
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
