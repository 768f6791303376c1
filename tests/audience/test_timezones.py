"""Any time zone: a country then a zone, a typed city or a UTC offset (on the emulator,
SQLite and PostgreSQL), and the rules that read what readers type."""

from __future__ import annotations

from bot.zones import countries, country_zones, find_zone, zone_label
from tests.audience.support import (
    NOON,
    bot_running,
    buttons,
    latest,
    next_from_bot,
    subscription,
    tap,
)
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock

READER = 6100


def test_cities_and_offsets_in_five_languages() -> None:
    for city in ("Berlin", "берлин", "ბერლინი", "Բեռլին", "BERLIN", "Europe/Berlin"):
        assert find_zone(city) == "Europe/Berlin", city
    assert find_zone("Москва") == "Europe/Moscow"
    assert find_zone("new york") == "America/New_York"
    assert find_zone("Bakı") == find_zone("Baku") == "Asia/Baku"
    assert find_zone("+4") == "Etc/GMT-4" and zone_label("Etc/GMT-4") == "UTC+4"
    assert find_zone("UTC-5") == "Etc/GMT+5" and zone_label("Etc/GMT+5") == "UTC-5"
    assert find_zone("GMT+05:30") == "Asia/Kolkata"
    assert find_zone("+0") == "UTC"
    for nonsense in ("+15", "+4:10", "Atlantis", "", "x" * 500):
        assert find_zone(nonsense) is None, nonsense


def test_countries_and_their_zones_in_the_readers_language() -> None:
    assert ("DE", "Германия") in countries("ru")
    assert ("GE", "საქართველო") in countries("ka")
    zones = country_zones("RU", "ru")
    assert zones[0][0] == "Europe/Kaliningrad" and zones[0][1] == "Калининград (UTC+2)"
    assert zones[-1][0] in ("Asia/Kamchatka", "Asia/Anadyr")


async def _open_picker(api: FakeBotAPI) -> None:
    sent = len(api.messages_to(READER))
    api.push_message(READER, READER, "/start georgia-en")
    await next_from_bot(api, READER, "sendMessage", sent + 1)
    api.push_message(READER, READER, "/settings")
    await next_from_bot(api, READER, "sendMessage", sent + 2)
    await tap(api, READER, READER, "Time zone")
    await tap(api, READER, READER, "Another time zone…")


async def test_a_reader_picks_a_country_then_a_zone(database_url: str) -> None:
    async with (
        FakeBotAPI() as api,
        bot_running(api, database_url, FakeClock(NOON, runs=True)) as parts,
    ):
        await _open_picker(api)
        screen = latest(api, READER)
        assert screen is not None and "Pick your country" in screen.plain_text
        while "Germany" not in buttons(latest(api, READER)):
            await tap(api, READER, READER, "»")
        await tap(api, READER, READER, "Germany")
        label = next(b for b in buttons(latest(api, READER)) if b.startswith("Berlin ("))
        await tap(api, READER, READER, label)
        menu = latest(api, READER)
        assert menu is not None and menu.plain_text.startswith("Time zone: Europe/Berlin.")
        row, _ = await subscription(parts, READER)
        assert row is not None and row.timezone == "Europe/Berlin"
        await tap(api, READER, READER, "Time zone")  # the zone is shown, ticked
        assert "✅ Europe/Berlin" in buttons(latest(api, READER))


async def test_a_reader_sends_a_city_or_an_offset(database_url: str) -> None:
    async with (
        FakeBotAPI() as api,
        bot_running(api, database_url, FakeClock(NOON, runs=True)) as parts,
    ):
        api.push_message(READER, READER, "Moscow")  # not asked: the usual hint, no change
        await next_from_bot(api, READER, "sendMessage", 1)
        await _open_picker(api)
        sent = len(api.messages_to(READER))
        api.push_message(READER, READER, "Atlantis")
        await next_from_bot(api, READER, "sendMessage", sent + 1)
        assert "I don't know that place" in api.messages_to(READER)[-1].plain_text
        api.push_message(READER, READER, "Москва")
        await next_from_bot(api, READER, "sendMessage", sent + 2)
        assert api.messages_to(READER)[-1].plain_text.startswith("Time zone: Europe/Moscow.")
        row, _ = await subscription(parts, READER)
        assert row is not None and row.timezone == "Europe/Moscow"
        await tap(api, READER, READER, "Time zone")
        await tap(api, READER, READER, "Another time zone…")
        api.push_message(READER, READER, "UTC+4")
        await next_from_bot(api, READER, "sendMessage", sent + 3)
        assert api.messages_to(READER)[-1].plain_text.startswith("Time zone: UTC+4.")
        row, _ = await subscription(parts, READER)
        assert row is not None and row.timezone == "Etc/GMT-4"
