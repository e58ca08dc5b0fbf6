"""File-level checks before a VCF is parsed: what kind of file it is, whether it was cut short, and
whether its index can be trusted.

htslib only warns about a BGZF file without its end-of-file block and reads a plain VCF cut in the
middle of a record as complete; a stale or broken ``.tbi``/``.csi`` silently gives zero records.
These checks turn each of these into one clear line or a note (see :func:`index_status`).
"""
from __future__ import annotations

import os
import stat
import zlib

from ctresist.errors import InputError

#: the 28-byte empty BGZF block that ends every complete BGZF file (SAM/BAM spec, section 4.1.2)
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def check_regular_file(path: str, what: str = "VCF file",
                       hint: str = "give the path of the .vcf, .vcf.gz or .bcf file") -> None:
    """Refuse at once what is not a regular readable file (directory, FIFO, device, socket), so
    nothing hangs on a FIFO or fails later with a traceback. ``what``/``hint`` name the input."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror}); check the path") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path}: is a directory, not a {what}; {hint}")
    if not stat.S_ISREG(st.st_mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "not a regular file"
        raise InputError(f"{path}: is {kind}, not a {what}; {hint}")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: permission denied; make the file readable")


def file_kind(path: str) -> str:
    """``bgzf``, ``gzip`` (plain, not block gzip), ``bcf-raw`` (uncompressed BCF) or ``text``.

    Also refuses text named .gz, a BGZF file without its end-of-file block (cut at a block
    boundary or in a block) and a text file whose last line has no newline (cut mid-record).
    """
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(18)
        if size >= 28:
            fh.seek(size - 28)
            tail = fh.read(28)
        else:
            tail = b""
    if head[:2] == b"\x1f\x8b":
        if len(head) >= 16 and head[12:14] == b"BC":
            if tail != BGZF_EOF:
                raise InputError(f"{path}: truncated: the BGZF end-of-file block is missing, so the "
                                 "file was cut short (interrupted copy or bgzip); copy or compress "
                                 "it again")
            return "bgzf"
        return "gzip"
    if path.endswith((".gz", ".bgz")):
        raise InputError(f"{path}: named .gz but not gzip-compressed; compress it with "
                         "'bgzip' or drop the .gz suffix")
    if head[:3] == b"BCF":
        return "bcf-raw"
    if size and not _ends_with_newline(path, size):
        raise InputError(f"{path}: record {_last_line_locus(path, size)}: the last line has no "
                         "end of line, so the file was cut in the middle of a record; copy it again")
    return "text"


def _ends_with_newline(path: str, size: int) -> bool:
    with open(path, "rb") as fh:
        fh.seek(size - 1)
        return fh.read(1) == b"\n"


def _last_line_locus(path: str, size: int) -> str:
    """CHROM:POS of the last (unterminated) line, read from the end of the file."""
    with open(path, "rb") as fh:
        fh.seek(max(0, size - 65536))
        last = fh.read().rsplit(b"\n", 1)[-1]
    parts = last.decode("utf-8", "replace").split("\t")
    return f"{parts[0][:40]}:{parts[1][:20]}" if len(parts) > 1 else "(last line)"


def index_status(path: str, kind: str, header_contigs: list[str]) -> tuple[str | None, str | None]:
    """(index path, None) when a usable ``.tbi``/``.csi`` is next to ``path``; (None, reason) when
    one exists but cannot be trusted; (None, None) when there is none.

    Usable means: not empty, not older than the data file (mtime), loadable, and its contigs are
    all declared in the header (an index of another file names other contigs) and include the
    contig of the first record.
    """
    found = [path + ext for ext in (".tbi", ".csi") if os.path.exists(path + ext)]
    if not found:
        return None, None
    idx = found[0]
    name = os.path.basename(idx)
    if kind != "bgzf":
        return None, f"index {name} ignored: the file is not BGZF-compressed, so it cannot be indexed"
    if os.path.getsize(idx) == 0:
        return None, f"index {name} ignored: it is empty (0 bytes)"
    if os.path.getmtime(idx) < os.path.getmtime(path):
        return None, f"index {name} ignored: it is older than the VCF (stale; re-run tabix)"
    contigs = _index_contigs(idx)
    if contigs is None:
        return None, f"index {name} ignored: it cannot be loaded (corrupt or not a tabix/CSI index)"
    if not contigs:  # a BCF's CSI names no contigs (they are the header's): nothing to compare
        return idx, None
    if header_contigs:
        extra = sorted(set(contigs) - set(header_contigs))
        if extra:
            return None, (f"index {name} ignored: it names contigs the header does not declare "
                          f"({', '.join(extra[:3])}); it belongs to another file")
    for which, chrom in (("first", _first_record_chrom(path)), ("last", _last_record_chrom(path))):
        if chrom is not None and chrom not in contigs:
            return None, (f"index {name} ignored: it does not cover contig {chrom} of the {which} "
                          "record (stale or of another file)")
    return idx, None


def _index_contigs(idx: str) -> list[str] | None:
    """Contig names of a tabix (``.tbi``) or CSI index; [] for a CSI without names (BCF); None
    when the file is not a complete, readable index.

    Both are BGZF-compressed. TBI: ``TBI\\1``, n_ref, six int32 (format, columns, meta, skip),
    l_nm, NUL-separated names. CSI: ``CSI\\1``, min_shift, depth, l_aux, aux (for tabix-style
    CSI the same six int32, l_nm and names), then n_ref and the bins.
    """
    import gzip
    import struct

    try:
        with open(idx, "rb") as fh:
            data = gzip.decompress(fh.read())
        if data[:4] == b"TBI\1":
            l_nm = struct.unpack_from("<i", data, 32)[0]
            names = data[36:36 + l_nm]
        elif data[:4] == b"CSI\1":
            l_aux = struct.unpack_from("<i", data, 12)[0]
            if l_aux < 28:
                return []
            l_nm = struct.unpack_from("<i", data, 16 + 24)[0]
            names = data[16 + 28:16 + 28 + l_nm]
        else:
            return None
    except (OSError, EOFError, zlib.error, struct.error):
        return None
    return [n.decode("utf-8", "replace") for n in names.split(b"\0") if n]


def _first_record_chrom(path: str) -> str | None:
    """CHROM of the first data record (None if there is none or it cannot be read)."""
    from cyvcf2 import VCF

    try:
        vcf = VCF(path, lazy=True)
        try:
            for rec in vcf:
                return rec.CHROM
        finally:
            vcf.close()
    except Exception:  # cyvcf2 raises bare Exception for parse errors; streaming reports them
        return None
    return None


def _last_record_chrom(path: str, tail: int = 1 << 18) -> str | None:
    """CHROM of the last data record of a BGZF VCF, from its last blocks (None if not found or
    the file is BCF, whose records are binary)."""
    if path.endswith(".bcf"):
        return None
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        fh.seek(max(0, size - tail))
        data = fh.read()
    start = data.find(b"\x1f\x8b\x08\x04")
    text = bytearray()
    while 0 <= start < len(data):
        try:
            d = zlib.decompressobj(31)
            text += d.decompress(data[start:])
            rest = d.unused_data
        except zlib.error:
            return None
        start = len(data) - len(rest) if rest else -1
    lines = [ln for ln in bytes(text).split(b"\n") if ln and not ln.startswith(b"#")]
    if len(lines) < 2:  # the first one may be the cut end of an earlier line
        return None
    return lines[-1].split(b"\t", 1)[0].decode("utf-8", "replace")
