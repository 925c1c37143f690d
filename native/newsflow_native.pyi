"""The Chinese keyword step of newsflow's normalizer, in Rust (see pipeline/tagging.py)."""

class Keywords:
    def __init__(
        self,
        *,
        terms: list[str],
        idf_path: str,
        chinese: frozenset[str] | set[str],
        english: frozenset[str] | set[str],
        letters: list[tuple[int, int]],
        digits: list[tuple[int, int]],
        ascii_lower: dict[str, str],
        phrase_min_count: int,
        phrase_min_share: float,
        phrase_max_chars: int,
        phrase_candidates: int,
        spare: int,
    ) -> None: ...
    @property
    def terms_added(self) -> list[str]: ...
    @property
    def idf_summary(self) -> tuple[int, float]: ...
    def segment(self, text: str) -> list[str]: ...
    def chinese_keywords(self, text: str, limit: int) -> list[str]: ...
