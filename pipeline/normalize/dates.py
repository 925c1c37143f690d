"""Dates as sources write them -> timezone-aware UTC datetimes.

Rules (documented in one place, because ids and search ranking depend on them):
- An explicit offset or zone always wins: `2022-05-05 21:38:33 +0800` is 2022-05-05T13:38:33Z.
- A naive date or time is read in the *default zone* the caller passes: the source's zone,
  `source_zone(source, language)`, is its `timezone` (IANA name) when the sources file gives one,
  else `default_zone(language)`: UTC+8 for Chinese sources, UTC+9 for Japanese and Korean ones and
  UTC otherwise.
- In RFC 822 dates `CST` means China Standard Time (+08:00) when the default zone is UTC+8, and
  US Central Standard Time (-06:00) otherwise.
- A date-only value is midnight of that day in the default zone.
- A parsed date before 1990-01-01 or more than one day after the fetch time is implausible:
  `check_plausible` says why and the caller drops the date (the item is kept, unpublished-dated).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_tz
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from schemas.models import SourceInfo

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)

_CHINA = timezone(timedelta(hours=8))
_ZONES_BY_LANGUAGE: dict[str, tzinfo] = {
    "zh": _CHINA,
    "ja": timezone(timedelta(hours=9)),
    "ko": timezone(timedelta(hours=9)),
}

# Numeric dates: ISO 8601 / W3CDTF, `2022-05-05 21:38:33 +0800`, `2022/5/5 21:38`, `2022年5月5日 21时38分`.
_NUMERIC = re.compile(
    r"""
    (?P<year>\d{4}) \s* [-/.年] \s* (?P<month>\d{1,2}) \s* [-/.月] \s* (?P<day>\d{1,2}) \s* 日?
    (?:
        (?:\s*T\s*|\s+|(?<=日))
        (?P<hour>\d{1,2}) \s* [:时] \s* (?P<minute>\d{1,2})
        (?: \s* [:分] \s* (?P<second>\d{1,2}) (?:[.,](?P<fraction>\d{1,9}))? \s* 秒? | \s*分 )?
    )?
    \s*
    (?P<zone>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?
    """,
    re.VERBOSE,
)
_EPOCH = re.compile(r"\d{10}(?:\d{3})?")
_RFC822_ZONE = re.compile(r"(?:[+-]\d{4}|[A-Za-z]{1,5})\s*$")


def default_zone(language: str | None) -> tzinfo:
    """Zone for naive dates of a source writing in `language` (ISO 639-1); UTC when unknown."""
    if not language:
        return UTC
    return _ZONES_BY_LANGUAGE.get(language.split("-")[0].lower(), UTC)


@lru_cache(maxsize=64)
def named_zone(name: str) -> tzinfo:
    """The IANA zone `name` (Asia/Shanghai); ValueError naming it when there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone name (use an IANA name such as Asia/Shanghai)") from None


def source_zone(source: SourceInfo, language: str | None = None) -> tzinfo:
    """Zone of the dates a source writes without one: its `timezone`, else by its or the item's language."""
    if source.timezone:
        return named_zone(source.timezone)
    return default_zone(source.language or language)


def _zone(text: str | None, default: tzinfo) -> tzinfo:
    if not text:
        return default
    if text in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 14 or minutes > 59:
        raise ValueError(f"offset {text} out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _parse_numeric(value: str, default: tzinfo) -> datetime | None:
    match = _NUMERIC.fullmatch(value)
    if match is None:
        return None
    parts = match.groupdict()
    fraction = (parts["fraction"] or "0")[:6].ljust(6, "0")
    try:
        return datetime(
            int(parts["year"]),
            int(parts["month"]),
            int(parts["day"]),
            int(parts["hour"] or 0),
            int(parts["minute"] or 0),
            int(parts["second"] or 0),
            int(fraction),
            tzinfo=_zone(parts["zone"], default),
        )
    except ValueError:
        return None


def _parse_rfc822(value: str, default: tzinfo) -> datetime | None:
    if default.utcoffset(None) == timedelta(hours=8):
        value = re.sub(r"\bCST\b", "+0800", value)
    try:
        parsed = parsedate_tz(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    year, month, day, hour, minute, second = parsed[:6]
    # parsedate_tz reports a missing zone as offset 0: look for a zone token ourselves.
    has_zone = _RFC822_ZONE.search(value) is not None
    zone = timezone(timedelta(seconds=parsed[9] or 0)) if has_zone else default
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except (ValueError, OverflowError):
        return None


def _parse_epoch(value: str) -> datetime | None:
    if not _EPOCH.fullmatch(value):
        return None
    seconds = int(value) / 1000 if len(value) == 13 else int(value)
    return datetime.fromtimestamp(seconds, tz=UTC)


def parse_datetime(value: str | None, *, default: tzinfo = UTC) -> datetime | None:
    """Parse a date as a source wrote it into an aware UTC datetime, or None when it is not a date."""
    if value is None:
        return None
    text = value.strip()
    if not text or len(text) > 100:
        return None
    parsed = _parse_numeric(text, default) or _parse_epoch(text) or _parse_rfc822(text, default)
    if parsed is None:
        return None
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def check_plausible(value: datetime, *, now: datetime) -> str | None:
    """Why a publication date cannot be right (too old, or in the future), or None when it can."""
    if value < EARLIEST:
        return f"date {value.isoformat()} is before {EARLIEST.date().isoformat()}"
    if value > now + FUTURE_TOLERANCE:
        return f"date {value.isoformat()} is more than a day after the fetch time {now.isoformat()}"
    return None


def to_iso(value: datetime) -> str:
    """Canonical text of an instant: UTC, seconds precision, `Z` suffix."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
