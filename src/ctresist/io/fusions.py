"""The one fusion/structural-variant reader: SV VCFs (breakends) and fusion-caller tables, read into
one :class:`FusionCall` model. Gene naming, kinase-domain retention and catalogue matching are in
:mod:`ctresist.fusions`.

Formats (recognised from the header, never from the file name):

* **SV VCF** (Manta, DRAGEN/TSO500, GRIDSS, LUMPY/smoove, Delly): ``SVTYPE=BND`` breakends (VCF 4.2
  section 5.4: ``t[p[``, ``t]p]``, ``]p]t``, ``[p[t``) and ``DEL``/``DUP``/``INV`` with ``END``.
  The two records of one junction (``MATEID``, or the same pair of positions) give one call; a
  record whose mate is missing still gives the junction from its ALT. Read support of the tumour
  column: Manta/DRAGEN ``PR`` + ``SR`` (ref, alt), GRIDSS ``VF`` against ``REF`` + ``REFPAIR``,
  LUMPY ``SU`` (or ``PE`` + ``SR``); allele fraction = alt / (alt + ref) when both are given, or
  ``AF``. Read through :func:`ctresist.io.vcf.open_vcf` (the one VCF reader).
* **Arriba** ``fusions.tsv``: ``#gene1 gene2 strand1(gene/fusion) ... direction1 direction2 ...``;
  the 5' gene is told from each gene's strand and ``direction`` (downstream = the partner is
  joined after the breakpoint); support = split_reads1 + split_reads2 + discordant_mates;
  ``retained_protein_domains`` (after ``|``: the 3' gene) tells kinase-domain retention.
* **STAR-Fusion** ``star-fusion.fusion_predictions(.abridged).tsv``: ``#FusionName
  JunctionReadCount SpanningFragCount ... LeftGene LeftBreakpoint RightGene RightBreakpoint``;
  left = 5'.
* **FusionCatcher** ``final-list_candidate-fusion-genes.txt``: ``Gene_1_symbol(5end_fusion_partner)
  ... Spanning_pairs Spanning_unique_reads ... Fusion_point_for_gene_1(5end_fusion_partner)``.
* **LINX** ``*.linx.fusion.tsv``: ``name`` (``EML4_ALK``), ``fusedExonUp``/``fusedExonDown``,
  ``domainsKept``/``domainsLost``, ``reported``, ``junctionCopyNumber``. LINX writes no read
  counts, so its calls have unknown read support.
* **PCGR / generic**: PCGR ``FusionGene LeftBreakpoint RightBreakpoint SplitReads``
  (``EML4--ALK``); generic ``gene5 gene3`` with optional ``breakpoint5 breakpoint3`` (``chr:pos``),
  ``supporting_reads``, ``split_reads``, ``spanning_reads``, ``af``, ``exon5``, ``exon3``.

Unknown values stay ``None`` (missing is not zero). Every fault is one :class:`InputError` naming
the file and line (tables) or record number and CHROM:POS (VCF).
"""
from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field

from ctresist.errors import InputError
from ctresist.genes import norm_chrom
from ctresist.io import integrity
from ctresist.io.vcf import format_values as vcf_format
from ctresist.io.vcf import open_vcf

#: VCF 4.2 breakend ALT: t[p[ t]p] ]p]t [p[t (t: one or more bases, or '.' for a single breakend)
_BND = re.compile(r"^([A-Za-z.*]*)([\[\]])([^\[\]:]+):(\d+)([\[\]])([A-Za-z.*]*)$")
_POINT = re.compile(r"^(?:chr)?([0-9XYMTxym]+|[^:\s]+?):(\d+)(?::([+-]))?$", re.IGNORECASE)
GENERIC_COLUMNS = ("gene5", "gene3")


@dataclass
class Breakend:
    """One side of a junction: 1-based position; ``keep`` is the side of the reference that stays
    joined to the partner (``left`` = the bases up to ``pos``, ``right`` = from ``pos`` on), None
    when the caller does not say."""

    chrom: str
    pos: int
    keep: str | None = None

    @property
    def text(self) -> str:
        return f"{self.chrom}:{self.pos}"


@dataclass
class FusionCall:
    """One fusion or SV junction as the caller reported it.

    ``oriented``: ``gene5``/``a`` is the 5' partner and ``gene3``/``b`` the 3' partner (tables);
    False for VCF junctions, whose orientation follows from the genes' strands and ``keep``.
    Read counts are fragments/reads supporting the junction; ``ref_reads`` those supporting the
    reference at the breakends; ``af`` 0-1. ``exon5``/``exon3`` are the caller's exon numbers (last
    exon of the 5' gene, first of the 3' gene), ``kinase_domain`` its own retention statement
    (``retained``/``lost``/None).
    """

    caller: str
    record: str  # file:line or "record N CHROM:POS" for messages
    a: Breakend | None = None
    b: Breakend | None = None
    gene5: str | None = None
    gene3: str | None = None
    oriented: bool = True
    exon5: int | None = None
    exon3: int | None = None
    kinase_domain: str | None = None
    domains: str = ""
    alt_reads: int | None = None
    split_reads: int | None = None
    paired_reads: int | None = None
    ref_reads: int | None = None
    af: float | None = None
    filters: str = "PASS"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def depth(self) -> int | None:
        if self.alt_reads is None or self.ref_reads is None:
            return None
        return self.alt_reads + self.ref_reads


def read_fusions(path: str, tumor: str | None = None) -> tuple[list[FusionCall], str]:
    """All junctions of one fusion/SV file and the format name (``vcf:<caller>``, ``arriba``,
    ``star-fusion``, ``fusioncatcher``, ``linx``, ``pcgr``, ``generic``). ``tumor``: the tumour
    column of a multi-sample VCF (the sheet's ``tumor_sample``), as for small-variant VCFs."""
    integrity.check_regular_file(path, "fusion or structural-variant file",
                                 "give an SV VCF or a fusion table (Arriba, STAR-Fusion, LINX, generic)")
    first = _first_line(path)
    if first.startswith("##fileformat=VCF") or first.startswith("BCF"):
        return _read_vcf(path, tumor)
    return _read_table(path)


def _unreadable(path: str, exc: Exception) -> InputError:
    return InputError(f"{path}: not a readable text table ({type(exc).__name__}: {exc}); give the caller's "
                      "tab-separated output, plain or gzipped")


def _first_line(path: str) -> str:
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head[:3] == b"BCF":
        return "BCF"
    opener = gzip.open if head[:2] == b"\x1f\x8b" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", errors="replace") as fh:  # type: ignore[operator]
            return fh.readline().rstrip("\r\n")
    except (OSError, EOFError) as exc:
        raise _unreadable(path, exc) from None


# --- VCF -----------------------------------------------------------------------------------------

def _read_vcf(path: str, tumor: str | None = None) -> tuple[list[FusionCall], str]:
    vcf, info = open_vcf(path, tumor)
    if re.search(r"^##INFO=<ID=SVTYPE,", info.raw_header, flags=re.M) is None:
        vcf.close()
        raise InputError(f"{path}: no INFO/SVTYPE declared: not a structural-variant VCF; give the "
                         "SV caller's VCF (Manta, GRIDSS, DRAGEN SV) or a fusion table")
    caller = _vcf_caller(info.raw_header)
    s = info.samples.index(info.tumor) if info.tumor in info.samples else (0 if info.samples else None)
    calls: list[FusionCall] = []
    seen: dict[frozenset, FusionCall] = {}
    n = 0
    for v in vcf:
        n += 1
        svtype = v.INFO.get("SVTYPE")
        if svtype not in ("BND", "DEL", "DUP", "INV", "TRA"):
            continue
        chrom, pos = norm_chrom(v.CHROM), int(v.POS)
        where = f"record {n} {v.CHROM}:{pos}"
        for a, b in _junctions(path, v, svtype, chrom, pos, where):
            key = frozenset({(a.chrom, a.pos, a.keep), (b.chrom, b.pos, b.keep)})
            call = FusionCall(caller=caller, record=f"{path}: {where}", a=a, b=b, oriented=False,
                              filters=";".join(v.FILTERS) if v.FILTERS else "PASS")
            _vcf_support(call, v, s, path, where)
            if key in seen:  # the mate record of a junction already read: one call, best support
                prev = seen[key]
                if (call.alt_reads or -1) > (prev.alt_reads or -1):
                    call.record = prev.record
                    seen[key] = call
                    calls[calls.index(prev)] = call
                continue
            seen[key] = call
            calls.append(call)
    vcf.close()
    return calls, f"vcf:{caller}"


def _vcf_caller(raw: str) -> str:
    src = " ".join(re.findall(r"^##source=(.+)$", raw, flags=re.M)).lower()
    for name in ("manta", "gridss", "dragen", "delly", "lumpy", "svaba", "smoove"):
        if name in src or re.search(rf"^##{name}", raw, flags=re.M | re.I):
            return name
    if "##FORMAT=<ID=VF," in raw:
        return "gridss"
    if "##FORMAT=<ID=PR," in raw:
        return "manta"
    return "generic"


def _junctions(path: str, v, svtype: str, chrom: str, pos: int, where: str) -> list[tuple[Breakend, Breakend]]:
    alts = [a for a in (v.ALT or []) if a]
    if svtype in ("BND", "TRA") and alts and ("[" in alts[0] or "]" in alts[0]):
        out = []
        for alt in alts:
            m = _BND.match(alt)
            if not m or bool(m.group(1)) == bool(m.group(6)) or m.group(2) != m.group(5):
                raise InputError(f"{path}: {where}: malformed breakend ALT {alt!r}; expected t[p[, t]p], "
                                 "]p]t or [p[t (VCF 4.2 section 5.4)")
            keep = "left" if m.group(1) else "right"
            mate_keep = "right" if m.group(2) == "[" else "left"
            out.append((Breakend(chrom, pos, keep), Breakend(norm_chrom(m.group(3)), int(m.group(4)), mate_keep)))
        return out
    if alts and all(re.fullmatch(r"\.?[A-Za-z]+\.?", a) and "." in a for a in alts):
        return []  # single breakends (GRIDSS 'A.' / '.A'): no partner position, no fusion
    end = v.INFO.get("END")
    if svtype in ("BND", "TRA"):
        chr2 = v.INFO.get("CHR2")
        if chr2 is None or end is None:
            raise InputError(f"{path}: {where}: SVTYPE={svtype} without a breakend ALT or CHR2/END; "
                             "write the mate as t[p[ (VCF 4.2 section 5.4)")
        return [(Breakend(chrom, pos), Breakend(norm_chrom(str(chr2)), int(end)))]
    if end is None:
        raise InputError(f"{path}: {where}: SVTYPE={svtype} without INFO/END; add END")
    end = int(end)
    if svtype == "DEL":
        return [(Breakend(chrom, pos, "left"), Breakend(chrom, end + 1, "right"))]
    if svtype == "DUP":
        return [(Breakend(chrom, pos, "right"), Breakend(chrom, end, "left"))]
    # inversion: INV3 (Manta) = both ends keep their left side, INV5 = both the right; else both junctions
    if v.INFO.get("INV3"):
        return [(Breakend(chrom, pos, "left"), Breakend(chrom, end, "left"))]
    if v.INFO.get("INV5"):
        return [(Breakend(chrom, pos + 1, "right"), Breakend(chrom, end + 1, "right"))]
    return [(Breakend(chrom, pos, "left"), Breakend(chrom, end, "left")),
            (Breakend(chrom, pos + 1, "right"), Breakend(chrom, end + 1, "right"))]


def _fmt(v, tag: str, s: int | None) -> list[float] | None:
    """FORMAT values of the tumour column by the VCF reader's rules; None unless all are known."""
    if s is None:
        return None
    vals = vcf_format(v, tag, s)
    return None if vals is None or any(x is None for x in vals) else vals


def _vcf_support(call: FusionCall, v, s: int | None, path: str, where: str) -> None:
    vf = _fmt(v, "VF", s)
    if vf is not None:  # GRIDSS: fragments supporting the variant vs reads/pairs supporting the reference
        call.alt_reads = int(vf[0])
        refs = [_fmt(v, "REF", s), _fmt(v, "REFPAIR", s)]
        call.ref_reads = int(sum(r[0] for r in refs if r)) if any(refs) else None
        sr1, rp = _fmt(v, "SR", s), _fmt(v, "RP", s)
        call.split_reads = int(sr1[0]) if sr1 else None
        call.paired_reads = int(rp[0]) if rp else None
    else:
        pr, sr = _fmt(v, "PR", s), _fmt(v, "SR", s)
        if pr is not None or sr is not None:  # Manta / DRAGEN: (ref, alt) pairs
            for name, val in (("PR", pr), ("SR", sr)):
                if val is not None and len(val) != 2:
                    raise InputError(f"{path}: {where}: FORMAT/{name} has {len(val)} value(s); Manta writes "
                                     "two (ref, alt)")
            call.paired_reads = int(pr[1]) if pr else None
            call.split_reads = int(sr[1]) if sr else None
            call.alt_reads = (call.paired_reads or 0) + (call.split_reads or 0)
            call.ref_reads = int((pr[0] if pr else 0) + (sr[0] if sr else 0))
        else:  # LUMPY/smoove: INFO SU (or PE + SR)
            su = v.INFO.get("SU")
            pe, srr = v.INFO.get("PE"), v.INFO.get("SR")
            if su is not None:
                call.alt_reads = int(su)
            elif pe is not None or srr is not None:
                call.alt_reads = int(pe or 0) + int(srr or 0)
    af = _fmt(v, "AF", s)
    if af is not None:
        call.af = af[0]
    elif call.alt_reads is not None and call.ref_reads is not None and call.alt_reads + call.ref_reads > 0:
        call.af = call.alt_reads / (call.alt_reads + call.ref_reads)


# --- tables --------------------------------------------------------------------------------------

def _read_table(path: str) -> tuple[list[FusionCall], str]:
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:  # type: ignore[operator]
            lines = [(i, ln.rstrip("\r\n")) for i, ln in enumerate(fh, start=1)]
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise _unreadable(path, exc) from None
    lines = [(i, ln) for i, ln in lines if ln.strip()]
    if not lines:
        raise InputError(f"{path}:1: empty file; give a fusion table with its header line")
    hline, htext = lines[0]
    header = htext.lstrip("#").split("\t")
    cols = set(header)
    if {"gene1", "gene2", "breakpoint1", "breakpoint2", "split_reads1"} <= cols:
        fmt, parse = "arriba", _arriba
    elif {"FusionName", "JunctionReadCount", "SpanningFragCount", "LeftBreakpoint", "RightBreakpoint"} <= cols:
        fmt, parse = "star-fusion", _star_fusion
    elif any(c.startswith("Gene_1_symbol") for c in cols) and any(c.startswith("Fusion_point_for_gene_1") for c in cols):
        fmt, parse = "fusioncatcher", _fusioncatcher
    elif {"name", "fusedExonUp", "fusedExonDown"} <= cols:
        fmt, parse = "linx", _linx
    elif {"FusionGene", "LeftBreakpoint", "RightBreakpoint"} <= cols:
        fmt, parse = "pcgr", _pcgr
    elif set(GENERIC_COLUMNS) <= cols:
        fmt, parse = "generic", _generic
    else:
        raise InputError(f"{path}:{hline}: unknown fusion table header ({', '.join(header[:6])} ...); give "
                         "an SV VCF, Arriba fusions.tsv, STAR-Fusion, FusionCatcher, LINX *.linx.fusion.tsv, "
                         "PCGR fusions or a table with columns gene5, gene3 (breakpoint5, breakpoint3, "
                         "supporting_reads, af optional)")
    calls = []
    for i, ln in lines[1:]:
        if ln.startswith("#"):
            continue
        vals = ln.split("\t")
        if len(vals) != len(header):
            raise InputError(f"{path}:{i}: {len(vals)} columns, the header has {len(header)}; "
                             "fix the row (tab-separated, one value per column)")
        row = dict(zip(header, vals))
        calls.append(parse(row, f"{path}:{i}"))
    return calls, fmt


def _int(row: dict[str, str], col: str, where: str) -> int | None:
    x = row.get(col, "").strip()
    if x in ("", ".", "NA", "N/A", "nan"):
        return None
    try:
        n = int(float(x)) if re.fullmatch(r"\d+(\.0+)?", x) else int(x)
    except ValueError:
        raise InputError(f"{where}: column {col!r}: expected a whole number of reads, got {x!r}; "
                         "write a count such as 12") from None
    if n < 0:
        raise InputError(f"{where}: column {col!r}: negative read count {n}; write a count >= 0")
    return n


def _float01(row: dict[str, str], col: str, where: str) -> float | None:
    x = row.get(col, "").strip()
    if x in ("", ".", "NA", "nan"):
        return None
    try:
        f = float(x.rstrip("%")) / (100 if x.endswith("%") else 1)
    except ValueError:
        raise InputError(f"{where}: column {col!r}: expected an allele fraction 0-1, got {x!r}") from None
    if not 0 <= f <= 1:
        raise InputError(f"{where}: column {col!r}: allele fraction {x} outside 0-1; write e.g. 0.05")
    return f


def _point(row: dict[str, str], col: str, where: str, required: bool = True) -> Breakend | None:
    x = row.get(col, "").strip()
    if not x or x in (".", "NA"):
        if required:
            raise InputError(f"{where}: column {col!r}: empty breakpoint; write chrom:pos, e.g. chr10:43612032")
        return None
    m = _POINT.match(x)
    if not m:
        raise InputError(f"{where}: column {col!r}: malformed breakpoint {x!r}; write chrom:pos, e.g. "
                         "chr10:43612032")
    return Breakend(norm_chrom(m.group(1)), int(m.group(2)))


def _sum(*xs: int | None) -> int | None:
    known = [x for x in xs if x is not None]
    return sum(known) if known else None


def _gene(x: str) -> str | None:
    g = x.split("^")[0].split("(")[0].strip()
    return g or None


def _arriba(row: dict[str, str], where: str) -> FusionCall:
    a, b = _point(row, "breakpoint1", where), _point(row, "breakpoint2", where)
    g1, g2 = _gene(row["gene1"].split(",")[0]), _gene(row["gene2"].split(",")[0])
    for be, d in ((a, row.get("direction1", "")), (b, row.get("direction2", ""))):
        if be is not None:
            be.keep = {"downstream": "left", "upstream": "right"}.get(d.strip())
    strands = [row.get(c, "./.").split("/")[0] for c in ("strand1(gene/fusion)", "strand2(gene/fusion)")]
    five_first = _is_five(strands[0], a.keep if a else None)
    sr1, sr2 = _int(row, "split_reads1", where), _int(row, "split_reads2", where)
    dm = _int(row, "discordant_mates", where)
    cov = [_int(row, c, where) for c in ("coverage1", "coverage2")]
    call = FusionCall(caller="arriba", record=where, a=a, b=b, gene5=g1, gene3=g2,
                      split_reads=_sum(sr1, sr2), paired_reads=dm, alt_reads=_sum(sr1, sr2, dm),
                      filters=_arriba_filter(row.get("confidence", "")),
                      domains=row.get("retained_protein_domains", ""))
    if five_first is False:  # gene2 holds the 5' end
        call.a, call.b, call.gene5, call.gene3 = b, a, g2, g1
        cov.reverse()
    call.extra = {"site5": row.get("site1" if five_first is not False else "site2", ""),
                  "reading_frame": row.get("reading_frame", "")}
    dom = call.domains.split("|")
    if len(dom) == 2 and dom[1 if five_first is not False else 0] not in ("", "."):
        three = dom[1 if five_first is not False else 0]
        call.kinase_domain = "retained" if re.search(r"kinase", three, re.I) else "lost"
    return call


def _arriba_filter(confidence: str) -> str:
    """Arriba's ``confidence``: high is a pass, medium or low is a weak call."""
    c = confidence.strip()
    return "PASS" if c in ("high", "", ".") else f"confidence={c}"


def _is_five(strand: str, keep: str | None) -> bool | None:
    """A gene on ``strand`` keeping ``keep`` side of its breakpoint contributes its 5' part."""
    if strand not in ("+", "-") or keep is None:
        return None
    return (strand, keep) in (("+", "left"), ("-", "right"))


def _star_fusion(row: dict[str, str], where: str) -> FusionCall:
    j, s = _int(row, "JunctionReadCount", where), _int(row, "SpanningFragCount", where)
    return FusionCall(caller="star-fusion", record=where, a=_point(row, "LeftBreakpoint", where),
                      b=_point(row, "RightBreakpoint", where), gene5=_gene(row["LeftGene"]),
                      gene3=_gene(row["RightGene"]), split_reads=j, paired_reads=s, alt_reads=_sum(j, s))


def _col(row: dict[str, str], prefix: str) -> str:
    return next((v for k, v in row.items() if k.startswith(prefix)), "")


def _fusioncatcher(row: dict[str, str], where: str) -> FusionCall:
    pairs, uniq = _int(row, _k(row, "Spanning_pairs"), where), _int(row, _k(row, "Spanning_unique_reads"), where)
    p1 = {"x": _col(row, "Fusion_point_for_gene_1")}
    p2 = {"x": _col(row, "Fusion_point_for_gene_2")}
    return FusionCall(caller="fusioncatcher", record=where, a=_point(p1, "x", where), b=_point(p2, "x", where),
                      gene5=_gene(_col(row, "Gene_1_symbol")), gene3=_gene(_col(row, "Gene_2_symbol")),
                      split_reads=uniq, paired_reads=pairs, alt_reads=_sum(pairs, uniq))


def _k(row: dict[str, str], prefix: str) -> str:
    return next((k for k in row if k.startswith(prefix)), prefix)


def _linx(row: dict[str, str], where: str) -> FusionCall:
    name = row["name"]
    if "_" not in name:
        raise InputError(f"{where}: column 'name': {name!r} is not GENE5_GENE3 as LINX writes it")
    g5, g3 = name.split("_", 1)
    lost, kept = row.get("domainsLost", ""), row.get("domainsKept", "")
    kd = ("lost" if re.search(r"kinase", lost, re.I) else "retained" if re.search(r"kinase", kept, re.I)
          else None)
    return FusionCall(caller="linx", record=where, gene5=row.get("geneStart") or g5, gene3=row.get("geneEnd") or g3,
                      exon5=_int(row, "fusedExonUp", where), exon3=_int(row, "fusedExonDown", where),
                      kinase_domain=kd, domains=f"{kept}|{lost}",
                      filters="PASS" if row.get("reported", "").lower() == "true" else "not_reported",
                      extra={"phased": row.get("phased", ""), "junctionCopyNumber": row.get("junctionCopyNumber", "")})


def _pcgr(row: dict[str, str], where: str) -> FusionCall:
    parts = re.split(r"--|::", row["FusionGene"].strip())
    if len(parts) != 2 or not any(parts):  # one side may be empty: an unnamed (intergenic) partner
        raise InputError(f"{where}: column 'FusionGene': {row['FusionGene']!r} is not GENE5--GENE3")
    sr = _int(row, "SplitReads", where)
    return FusionCall(caller="pcgr", record=where, a=_point(row, "LeftBreakpoint", where),
                      b=_point(row, "RightBreakpoint", where), gene5=parts[0] or None, gene3=parts[1] or None,
                      split_reads=sr, alt_reads=sr)


def _generic(row: dict[str, str], where: str) -> FusionCall:
    g5, g3 = row["gene5"].strip(), row["gene3"].strip()
    if not g5 or not g3:
        raise InputError(f"{where}: columns 'gene5'/'gene3': both genes are required (HGNC symbols)")
    split, span = _int(row, "split_reads", where), _int(row, "spanning_reads", where)
    total = _int(row, "supporting_reads", where)
    return FusionCall(caller="generic", record=where, a=_point(row, "breakpoint5", where, False),
                      b=_point(row, "breakpoint3", where, False), gene5=g5, gene3=g3,
                      split_reads=split, paired_reads=span,
                      alt_reads=total if total is not None else _sum(split, span),
                      ref_reads=_int(row, "ref_reads", where), af=_float01(row, "af", where),
                      exon5=_int(row, "exon5", where), exon3=_int(row, "exon3", where),
                      filters=row.get("filter", "").strip() or "PASS")
