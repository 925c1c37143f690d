"""The Chinese keyword step of newsflow's normalizer (see pipeline/tagging.py) and the sketches of story
fingerprints (see pipeline/stories/sketch.py), in Rust."""

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

class Sketcher:
    def __init__(
        self,
        *,
        lower: bytes,
        cjk_from: int,
        max_chars: int,
        max_cjk_chars: int,
        max_tokens: int,
        powers: bytes,
        inverses: bytes,
        m1: int,
        s32: int,
        word_tag: int,
        h: list[int],
        bin_starts: bytes,
        bottom_k: int,
        bands: int,
        rows: int,
    ) -> None: ...
    def shingle_hashes(self, text: str, cjk: bool | None = None) -> list[int]: ...
    def bins(self, text: str, cjk: bool | None = None) -> list[int]: ...
    def sketch(self, text: str, cjk: bool | None = None) -> tuple[int, tuple[int, ...], tuple[str, ...]]: ...
    def sketch_joined(
        self, parts: tuple[str, ...] | list[str], cjk: bool | None = None
    ) -> tuple[int, tuple[int, ...], tuple[str, ...]]: ...
