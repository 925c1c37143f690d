"""Character encoding of an XML feed, decided before any parser sees it.

Order: a byte-order mark; then the encoding the HTTP header or the XML declaration names, if the
bytes really are in it (but bytes that are valid non-ASCII UTF-8 are read as UTF-8 even when a
single-byte encoding such as ISO-8859-1 is declared: that mislabelling is common); then UTF-8;
then the Chinese legacy encodings, picked by which one reads as common Chinese; then
windows-1252 (which decodes anything, like feedparser's last resort).

Declared names are widened to the superset browsers use (WHATWG Encoding): GB2312 and GBK are
read as GB18030, Big5 as Big5-HKSCS, ISO-8859-1 and ASCII as windows-1252, Shift_JIS as cp932,
EUC-KR as cp949. A GB2312-declared feed that uses a GBK character then still decodes.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SUPERSETS = {  # keys: Python's canonical codec names
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "big5": "big5hkscs",
    "iso8859-1": "cp1252",
    "ascii": "cp1252",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
}
_LABELS = {"x-gbk": "gbk", "x-big5": "big5", "x-sjis": "shift_jis", "x-euc-jp": "euc_jp"}
_XML_DECLARATION = re.compile(rb"""^<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
_CHINESE_CANDIDATES = ("gb18030", "big5hkscs")
_SAMPLE_CHARS = 4000
_HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    note: str | None = None  # set when the declared encoding was wrong or missing and had to be guessed


def _codec(name: str | None) -> str | None:
    """Python codec name for an encoding label, widened to its superset; None if unknown."""
    if not name:
        return None
    label = name.strip().lower()
    try:
        canonical = codecs.lookup(_LABELS.get(label, label)).name
    except LookupError:
        return None
    return _SUPERSETS.get(canonical, canonical)


def _single_byte(codec: str) -> bool:
    """True for codecs that read one character per byte (windows-1252, ISO-8859-x, KOI8 ...)."""
    return len(b"\xc3\xa9".decode(codec, "replace")) == 2


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _common_han_share(text: str, codec: str) -> float:
    """Share of Han characters that are common in the script of `codec` (GB2312 or Big5 level 1)."""
    sample = _HAN.findall(text[:_SAMPLE_CHARS])
    if not sample:
        return 0.0
    common = 0
    for char in sample:
        if codec == "gb18030":
            try:
                char.encode("gb2312")
            except UnicodeEncodeError:
                continue
            common += 1
        else:
            try:
                encoded = char.encode("big5")
            except UnicodeEncodeError:
                continue
            common += 0xA440 <= int.from_bytes(encoded, "big") <= 0xC67E
    return common / len(sample)


def _guess_chinese(data: bytes) -> tuple[str, str] | None:
    best: tuple[float, str, str] | None = None
    for codec in _CHINESE_CANDIDATES:
        text = _strict(data, codec)
        if text is None:
            continue
        share = _common_han_share(text, codec)
        if best is None or share > best[0]:
            best = (share, codec, text)
    if best is None or best[0] < 0.5:
        return None
    return best[2], best[1]


def declared_encoding(data: bytes, content_type: str | None) -> str | None:
    """The charset the HTTP Content-Type or, failing that, the XML declaration names."""
    if content_type:
        for param in content_type.split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'")
    match = _XML_DECLARATION.match(data.lstrip()[:300])
    return match.group(1).decode("ascii") if match else None


def _decode_by_bom(data: bytes) -> Decoded | None:
    """A byte-order mark decides the encoding outright (bytes it does not fit are replaced); None without one."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            text = _strict(data[len(bom) :], codec)
            if text is not None:
                return Decoded(text, codec)
            return Decoded(data[len(bom) :].decode(codec, "replace"), codec, f"invalid {codec} bytes replaced")
    return None


def decode_xml(data: bytes, content_type: str | None = None) -> Decoded:
    """Text of an XML document, with the encoding used and a note when it had to be guessed."""
    by_bom = _decode_by_bom(data)
    if by_bom is not None:
        return by_bom
    if data.startswith((b"<\x00?\x00", b"\x00<\x00?")):
        codec = "utf-16-le" if data[0] == 0x3C else "utf-16-be"
        text = _strict(data, codec)
        if text is not None:
            return Decoded(text, codec)
    label = declared_encoding(data, content_type)
    declared = _codec(label)
    # A declaration readable as ASCII cannot be in a UTF-16/32 document (those were caught above).
    if declared and not declared.startswith(("utf-16", "utf-32")):
        text = _strict(data, declared)
        if text is not None and _single_byte(declared) and not data.isascii():
            # Feeds mislabelled ISO-8859-1 are common; text that is valid UTF-8 is almost surely UTF-8.
            utf8 = _strict(data, "utf-8")
            if utf8 is not None:
                return Decoded(utf8, "utf-8", f"declared encoding {label!r}, but the bytes are UTF-8")
        if text is not None:
            return Decoded(text, declared)
    note = f"declared encoding {label!r} does not fit the bytes" if label else None
    text = _strict(data, "utf-8")
    if text is not None:
        return Decoded(text, "utf-8", note)
    guess = _guess_chinese(data)
    if guess is not None:
        text, codec = guess
        return Decoded(text, codec, (note + "; " if note else "") + f"read as {codec}")
    return Decoded(data.decode("cp1252", "replace"), "cp1252", (note + "; " if note else "") + "read as cp1252")


# --- HTML pages ----------------------------------------------------------------------------------

# `<meta charset="gbk">` or `<meta http-equiv="Content-Type" content="text/html; charset=gb2312">`,
# looked for in the first bytes as browsers do (WHATWG's prescan reads 1024; pages often put it later).
_META_CHARSET = re.compile(rb"""<meta\b[^>]{0,400}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE)
_PRESCAN_BYTES = 4096
_KANA = re.compile(r"[\u3041-\u30ff]")
_HALF_WIDTH_KANA = re.compile(r"[\uff61-\uff9f]")
_JAPANESE_CANDIDATES = ("cp932", "euc_jp")


def meta_charset(data: bytes) -> str | None:
    """The charset a page's <meta> declares in its first bytes, if any."""
    match = _META_CHARSET.search(data[:_PRESCAN_BYTES])
    return match.group(1).decode("ascii") if match else None


def _kana_share(text: str) -> float:
    sample = text[:_SAMPLE_CHARS]
    kana = len(_KANA.findall(sample))
    han = len(_HAN.findall(sample))
    if not kana or len(_HALF_WIDTH_KANA.findall(sample)) > kana:
        return 0.0  # Chinese bytes read as Shift_JIS come out as half-width katakana, not kana
    return kana / (kana + han)


def _guess_japanese(data: bytes) -> tuple[str, str] | None:
    for codec in _JAPANESE_CANDIDATES:
        text = _strict(data, codec)
        if text is not None and _kana_share(text) >= 0.15:
            return text, codec
    return None


def decode_html(data: bytes, content_type: str | None = None) -> Decoded:
    """Text of an HTML page: a BOM, else the charset of the HTTP header, else of a <meta>, when the bytes fit it;
    else UTF-8, else Japanese or Chinese legacy encodings by which reads as common text, else windows-1252."""
    by_bom = _decode_by_bom(data)
    if by_bom is not None:
        return by_bom
    header = declared_encoding(b"", content_type)
    notes: list[str] = []
    for where, label in (("HTTP header", header), ("<meta>", meta_charset(data))):
        declared = _codec(label)
        if not label:
            continue
        if declared is None:
            notes.append(f"{where} names an unknown encoding {label!r}")
            continue
        if declared.startswith(("utf-16", "utf-32")):
            declared = "utf-8"  # a page that reached us as ASCII-compatible bytes is not UTF-16 (browsers agree)
        text = _strict(data, declared)
        if text is not None and _single_byte(declared) and not data.isascii():
            utf8 = _strict(data, "utf-8")
            if utf8 is not None:
                return Decoded(utf8, "utf-8", f"{where} says {label!r}, but the bytes are UTF-8")
        if text is not None:
            return Decoded(text, declared, "; ".join(notes) or None)
        notes.append(f"{where} says {label!r}, which does not fit the bytes")
    text = _strict(data, "utf-8")
    if text is not None:
        return Decoded(text, "utf-8", "; ".join(notes) or None)
    for guess in (_guess_japanese(data), _guess_chinese(data)):
        if guess is not None:
            text, codec = guess
            return Decoded(text, codec, "; ".join([*notes, f"read as {codec}"]))
    return Decoded(data.decode("cp1252", "replace"), "cp1252", "; ".join([*notes, "read as cp1252"]))
