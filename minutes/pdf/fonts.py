"""The typeface of the documents, registered once per process.

DejaVu Sans covers Latin, Greek and Cyrillic (every European name a council
will meet); it is used when found (``PDF_FONT_DIR`` or the usual system
folders, e.g. Debian's ``fonts-dejavu-core``). Otherwise Bitstream Vera, which
ships inside ReportLab and so is always there, covers Latin-1 and part of
Latin Extended-A; characters outside it print as empty boxes but stay in the
text layer (the PDF remains searchable and verifiable).
"""

import os
import threading
from pathlib import Path

import reportlab
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FAMILY = "CouncilSans"
MONO = "Courier"

_CANDIDATE_DIRS = [
    os.environ.get("PDF_FONT_DIR", ""),
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
]
_DEJAVU = {
    "": "DejaVuSans.ttf",
    "-Bold": "DejaVuSans-Bold.ttf",
    "-Italic": "DejaVuSans-Oblique.ttf",
    "-BoldItalic": "DejaVuSans-BoldOblique.ttf",
}
_VERA = {
    "": "Vera.ttf",
    "-Bold": "VeraBd.ttf",
    "-Italic": "VeraIt.ttf",
    "-BoldItalic": "VeraBI.ttf",
}

_registered: str | None = None
_lock = threading.Lock()  # print jobs render in threads of their own


def _dejavu_dir() -> Path | None:
    for folder in _CANDIDATE_DIRS:
        if folder and all((Path(folder) / name).is_file() for name in _DEJAVU.values()):
            return Path(folder)
    return None


def register() -> str:
    """Register the family and return which typeface it is (for the docs/tests)."""
    global _registered
    if _registered:
        return _registered
    with _lock:
        if not _registered:
            _registered = _register()
    return _registered


def _register() -> str:
    folder = _dejavu_dir()
    if folder is not None:
        files, typeface = {k: folder / v for k, v in _DEJAVU.items()}, "DejaVu Sans"
    else:
        vera = Path(reportlab.__file__).parent / "fonts"
        files, typeface = {k: vera / v for k, v in _VERA.items()}, "Bitstream Vera"
    for suffix, path in files.items():
        pdfmetrics.registerFont(TTFont(FAMILY + suffix, str(path)))
    addMapping(FAMILY, 0, 0, FAMILY)
    addMapping(FAMILY, 1, 0, FAMILY + "-Bold")
    addMapping(FAMILY, 0, 1, FAMILY + "-Italic")
    addMapping(FAMILY, 1, 1, FAMILY + "-BoldItalic")
    return typeface
