from __future__ import annotations

import pytest

from pipeline.normalize.language import UNDETERMINED, detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("广东8个跨境电商综试区方案同日出炉：联动特色产业打造“闭环式”生态圈", "zh"),
        ("廣東8個跨境電商綜試區方案同日出爐", "zh"),
        ("Apple 发布 iPhone 15 Pro Max，售价 7999 元起", "zh"),
        ("东京都は本日、新しい計画を発表しました。", "ja"),
        ("ソニーは新しいカメラを発売した", "ja"),
        ("서울시는 오늘 새로운 교통 계획을 발표했다", "ko"),
        ("The central bank raised interest rates again on Thursday, surprising markets.", "en"),
        ("La banque centrale a relevé ses taux directeurs jeudi, surprenant les marchés.", "fr"),
        ("Die Zentralbank hat am Donnerstag die Leitzinsen erneut angehoben.", "de"),
        ("El banco central volvió a subir los tipos de interés el jueves.", "es"),
        ("Центральный банк в четверг снова повысил процентные ставки.", "ru"),
        ("The word 中国 means China in Mandarin and is written with two characters.", "en"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    ("text", "hint", "expected"),
    [
        ("hi", None, UNDETERMINED),
        ("hi", "en", "en"),
        ("", "zh", "zh"),
        ("12345 67890 !!!", None, UNDETERMINED),
        ("OK", "zh-CN", "zh"),
        ("OK", "not a code!", UNDETERMINED),
        # the hint never overrides a clear script
        ("跨境电子商务综合试验区", "en", "zh"),
    ],
)
def test_short_or_ambiguous_text_uses_the_hint(text: str, hint: str | None, expected: str) -> None:
    assert detect_language(text, hint=hint) == expected


def test_result_is_an_iso_639_1_code_or_und() -> None:
    for text in ("Bonjour tout le monde, comment allez-vous aujourd'hui ?", "?!", "中文"):
        code = detect_language(text)
        assert code == UNDETERMINED or (len(code) == 2 and code.isalpha() and code.islower())
