"""Which encoding a CSV file is in, as LibreOffice and Excel save it, decided from its bytes.

LibreOffice's German default and Excel's „CSV (Trennzeichen-getrennt)" are not UTF-8 but
Windows-1252 (or, on some systems, ISO-8859-15); both save UTF-8 too, with or without a
byte order mark. Deterministic and in one streamed pass (the file is within MAX_FILE_BYTES):
valid UTF-8 is UTF-8; otherwise bytes 0x80–0x9F (printable only in Windows-1252, control
characters in ISO-8859-15) mean Windows-1252, and the eight bytes where ISO-8859-15 differs
from Latin-1 (€ Š š Ž ž Œ œ Ÿ) without them mean ISO-8859-15. Every other legacy file reads
the same in both, and is called Windows-1252. (A statistical guesser such as
charset-normalizer can call a short German file Latin-2 or Cyrillic; these three are the
only encodings the office programs offer a German maintainer by default.)
"""

from __future__ import annotations

import codecs
from pathlib import Path

__all__ = ["SEPARATOR_NAMES", "detect_encoding"]

_BOM = codecs.BOM_UTF8
_C1 = frozenset(range(0x80, 0xA0))
_LATIN9 = frozenset((0xA4, 0xA6, 0xA8, 0xB4, 0xB8, 0xBC, 0xBD, 0xBE))
_CHUNK = 1 << 16
# How a message names a separator, German and English.
SEPARATOR_NAMES = {";": ("Semikolon", "semicolon"), ",": ("Komma", "comma"),
                   "\t": ("Tabulator", "tab")}


def detect_encoding(path: Path) -> tuple[str, str]:
    """The Python codec to read the file with, and the encoding's name for messages."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    c1 = latin9 = False
    utf8 = True
    with path.open("rb") as handle:
        first = handle.read(len(_BOM))
        bom = first == _BOM
        chunk = b"" if bom else first
        while True:
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
            if not c1:
                present = set(chunk)
                c1 = bool(present & _C1)
                latin9 = latin9 or bool(present & _LATIN9)
            chunk = handle.read(_CHUNK)
            if not chunk:
                break
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    if bom and utf8:
        return "utf-8-sig", "UTF-8 (mit BOM / with BOM)"
    if utf8:
        return "utf-8", "UTF-8"
    if c1 or not latin9:
        return "cp1252", "Windows-1252"
    return "iso8859-15", "ISO-8859-15"
