"""Every source type of the sources file is polled through the one table, with its own location rules."""

from __future__ import annotations

from pipeline.poll import LISTERS, lister
from pipeline.sources.catalog import _LOCATION_RULES
from schemas.models import SourceType


def test_every_source_type_has_a_lister_and_location_rules() -> None:
    assert set(LISTERS) == set(SourceType)
    assert set(_LOCATION_RULES) == set(SourceType)
    for source_type in SourceType:
        assert lister(source_type) is LISTERS[source_type]
