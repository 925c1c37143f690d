from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo

import pytest

from pipeline.normalize.dates import check_plausible, default_zone, parse_datetime, to_iso

CST = timezone(timedelta(hours=8))
SEED_INSTANT = datetime(2022, 5, 5, 13, 38, 33, tzinfo=UTC)  # 2022-05-05 21:38:33 +0800


@pytest.mark.parametrize(
    ("value", "zone", "expected"),
    [
        # explicit offsets win over the default zone
        ("2022-05-05 21:38:33 +0800", UTC, SEED_INSTANT),
        ("2022-05-05 21:38:33 +08:00", UTC, SEED_INSTANT),
        ("2022-05-05T21:38:33+08:00", UTC, SEED_INSTANT),
        ("2022-05-05T13:38:33Z", CST, SEED_INSTANT),
        ("2022-05-05T13:38:33 UTC", CST, SEED_INSTANT),
        ("2022-05-05T09:38:33-04:00", CST, SEED_INSTANT),
        ("2022-05-05T13:38:33.250Z", UTC, SEED_INSTANT.replace(microsecond=250000)),
        ("2022-05-05T15:38:33+02", UTC, SEED_INSTANT),
        ("Thu, 05 May 2022 13:38:33 GMT", CST, SEED_INSTANT),
        ("Thu, 05 May 2022 21:38:33 +0800", UTC, SEED_INSTANT),
        ("05 May 2022 13:38:33 +0000", UTC, SEED_INSTANT),
        ("Thu, 5 May 2022 09:38:33 EDT", UTC, SEED_INSTANT),
        # CST is China Standard Time for a Chinese source, US Central otherwise
        ("Thu, 05 May 2022 21:38:33 CST", CST, SEED_INSTANT),
        ("Thu, 05 May 2022 07:38:33 CST", UTC, SEED_INSTANT),
        # naive values take the default zone
        ("2022-05-05 21:38:33", CST, SEED_INSTANT),
        ("2022-05-05 13:38:33", UTC, SEED_INSTANT),
        ("2022/05/05 21:38:33", CST, SEED_INSTANT),
        ("2022.05.05 21:38:33", CST, SEED_INSTANT),
        ("2022年5月5日 21:38:33", CST, SEED_INSTANT),
        ("2022年05月05日21时38分33秒", CST, SEED_INSTANT),
        ("Thu, 05 May 2022 21:38:33", CST, SEED_INSTANT),
        ("2022年5月5日 21:38", CST, SEED_INSTANT.replace(second=0)),
        ("2022-05-05", CST, datetime(2022, 5, 4, 16, 0, tzinfo=UTC)),
        ("2022-05-05", UTC, datetime(2022, 5, 5, tzinfo=UTC)),
        ("2022年5月5日", CST, datetime(2022, 5, 4, 16, 0, tzinfo=UTC)),
        # epoch seconds and milliseconds
        ("1651757913", UTC, SEED_INSTANT),
        ("1651757913000", UTC, SEED_INSTANT),
        ("  2022-05-05T13:38:33Z  ", UTC, SEED_INSTANT),
    ],
)
def test_parse_datetime(value: str, zone: tzinfo, expected: datetime) -> None:
    parsed = parse_datetime(value, default=zone)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "sometime last week",
        "yesterday",
        "2022-13-01",
        "2022-02-30",
        "2022-05-05 25:00:00",
        "2022-05-05T13:38:33+25:00",
        "Thu, 99 May 2022 13:38:33 GMT",
        "12345",
        "x" * 500,
    ],
)
def test_unparseable_dates_give_none(value: str | None) -> None:
    assert parse_datetime(value) is None


@pytest.mark.parametrize(
    ("language", "offset_hours"),
    [("zh", 8), ("zh-CN", 8), ("zh-tw", 8), ("ja", 9), ("ko", 9), ("en", 0), ("en-us", 0), (None, 0), ("", 0)],
)
def test_default_zone(language: str | None, offset_hours: int) -> None:
    assert default_zone(language).utcoffset(None) == timedelta(hours=offset_hours)


FETCHED = datetime(2022, 5, 6, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "plausible"),
    [
        (SEED_INSTANT, True),
        (datetime(1990, 1, 1, tzinfo=UTC), True),
        (datetime(1989, 12, 31, 23, 59, tzinfo=UTC), False),
        (datetime(1970, 1, 1, tzinfo=UTC), False),
        (FETCHED + timedelta(hours=23), True),
        (FETCHED + timedelta(days=1), True),
        (FETCHED + timedelta(days=1, seconds=1), False),
        (datetime(2101, 1, 1, tzinfo=UTC), False),
    ],
)
def test_check_plausible(value: datetime, plausible: bool) -> None:
    problem = check_plausible(value, now=FETCHED)
    assert (problem is None) is plausible
    if problem:
        assert value.isoformat() in problem


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (SEED_INSTANT, "2022-05-05T13:38:33Z"),
        (datetime(2022, 5, 5, 21, 38, 33, 999, tzinfo=CST), "2022-05-05T13:38:33Z"),
    ],
)
def test_to_iso(value: datetime, expected: str) -> None:
    assert to_iso(value) == expected
