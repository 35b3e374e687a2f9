"""What an uploaded file may be: its size, its type (by extension, declared type and content).

Accepted: text (txt, md, csv, json, yaml, xml, html...), PDF, images and office documents.
Executables are refused by extension and by their first bytes (PE, ELF, Mach-O, Java class,
shebang scripts), whatever the name says; a file whose content contradicts its extension (a
"report.pdf" that is not a PDF) is refused too. Refusals are 415, oversize is 413.

The size limit is FLOWLESS_MAX_UPLOAD_MB (default 100). Behind API Gateway a request is also
bounded by Lambda's 6 MB payload limit, and binary bodies arrive base64-encoded, so uploads
through the deployed API top out near 4.5 MB whatever the setting says.
"""

from __future__ import annotations

import os
from pathlib import PurePosixPath

DEFAULT_MAX_UPLOAD_MB = 100
MAX_NAME_LENGTH = 255

_TEXT = {
    "txt": "text/plain", "md": "text/markdown", "mdx": "text/markdown", "csv": "text/csv",
    "tsv": "text/tab-separated-values", "json": "application/json", "jsonl": "application/x-ndjson",
    "yaml": "application/yaml", "yml": "application/yaml", "xml": "application/xml", "html": "text/html",
    "htm": "text/html", "log": "text/plain", "rtf": "application/rtf",
}
_PDF = {"pdf": "application/pdf"}
_IMAGES = {
    "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
    "bmp": "image/bmp", "tif": "image/tiff", "tiff": "image/tiff",
}
_OOXML = "application/vnd.openxmlformats-officedocument."
_OFFICE = {
    "docx": _OOXML + "wordprocessingml.document", "xlsx": _OOXML + "spreadsheetml.sheet",
    "pptx": _OOXML + "presentationml.presentation", "doc": "application/msword",
    "xls": "application/vnd.ms-excel", "ppt": "application/vnd.ms-powerpoint",
    "odt": "application/vnd.oasis.opendocument.text", "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
}
# Extension -> the content type the file is stored (and served) with.
ALLOWED_TYPES: dict[str, str] = {**_TEXT, **_PDF, **_IMAGES, **_OFFICE}

EXECUTABLE_EXTENSIONS = frozenset(
    {"exe", "dll", "com", "scr", "msi", "msp", "bat", "cmd", "ps1", "psm1", "vbs", "vbe", "js", "jse", "wsf",
     "wsh", "hta", "cpl", "jar", "class", "apk", "app", "dmg", "pkg", "deb", "rpm", "elf", "so", "dylib", "bin",
     "sh", "bash", "zsh", "csh", "run", "out", "py", "pyc", "pl", "rb", "php", "lnk", "reg", "sys", "drv", "ocx"}
)
_EXECUTABLE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "a Windows executable"),
    (b"\x7fELF", "an ELF executable"),
    (b"\xfe\xed\xfa\xce", "a Mach-O executable"),
    (b"\xfe\xed\xfa\xcf", "a Mach-O executable"),
    (b"\xce\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xca\xfe\xba\xbe", "a Mach-O universal binary or Java class"),
    (b"#!", "a script with an interpreter line"),
    (b"\x00asm", "a WebAssembly module"),
)
# Declared types that are refused whatever the extension.
_EXECUTABLE_TYPES = frozenset(
    {"application/x-msdownload", "application/x-msdos-program", "application/x-dosexec", "application/x-executable",
     "application/x-elf", "application/x-sharedlib", "application/x-mach-binary", "application/java-archive",
     "application/x-sh", "application/x-shellscript", "application/vnd.microsoft.portable-executable",
     "application/x-msi", "application/wasm"}
)
# Content that a binary format must begin with (text formats are not checked this way).
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "bmp": (b"BM",),
    "tif": (b"II*\x00", b"MM\x00*"),
    "tiff": (b"II*\x00", b"MM\x00*"),
    **{ext: (b"PK\x03\x04",) for ext in ("docx", "xlsx", "pptx", "odt", "ods", "odp")},
    **{ext: (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",) for ext in ("doc", "xls", "ppt")},
}
# Bytes of the file read to judge its content.
HEAD_BYTES = 64


class UploadRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def max_upload_mb() -> int:
    raw = os.environ.get("FLOWLESS_MAX_UPLOAD_MB")
    return int(raw) if raw else DEFAULT_MAX_UPLOAD_MB


def check_size(size: int) -> None:
    limit = max_upload_mb()
    if size > limit * 1024 * 1024:
        raise UploadRefused(413, f"File size is larger than the maximum file size {limit}MB.")


def upload_name(raw: str | None) -> str:
    """The file's own name: any directory part a client sent is dropped."""
    name = PurePosixPath((raw or "").replace("\\", "/")).name.strip()
    if not name or name in (".", "..") or len(name) > MAX_NAME_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise UploadRefused(400, "No file provided" if not name else "Invalid file name")
    return name


def extension(name: str) -> str:
    suffix = PurePosixPath(name).suffix
    return suffix[1:].lower() if suffix else ""


def check_type(name: str, declared: str | None, head: bytes) -> str:
    """The content type to store the file with; UploadRefused (415) when it is not accepted."""
    ext = extension(name)
    declared = (declared or "").split(";", 1)[0].strip().lower()
    if ext in EXECUTABLE_EXTENSIONS:
        raise UploadRefused(415, f"Unsupported file type: '.{ext}' files are executable and not accepted.")
    if declared in _EXECUTABLE_TYPES:
        raise UploadRefused(415, f"Unsupported content type: '{declared}' is an executable type and not accepted.")
    for magic, what in _EXECUTABLE_MAGIC:
        if head.startswith(magic):
            raise UploadRefused(415, f"Unsupported file content: '{name}' is {what}.")
    if ext not in ALLOWED_TYPES:
        accepted = ", ".join(sorted(ALLOWED_TYPES))
        raise UploadRefused(415, f"Unsupported file type: '.{ext or '(none)'}'. Accepted extensions: {accepted}.")
    signatures = _SIGNATURES.get(ext)
    if signatures and not head.startswith(signatures):
        raise UploadRefused(415, f"Unsupported file content: '{name}' is not a valid .{ext} file.")
    if ext == "webp" and not (head.startswith(b"RIFF") and head[8:12] == b"WEBP"):
        raise UploadRefused(415, f"Unsupported file content: '{name}' is not a valid .webp file.")
    return ALLOWED_TYPES[ext]
