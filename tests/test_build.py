"""Genome build: every signal in the VCF is checked against the sheet's genome_build (contig
lengths, assembly names in the header, REF bases at the catalogue's known sites, positions past a
chromosome's end). A mismatch is one error naming the evidence; an unverifiable build is said at
the top of the report and a negative result never reads as a plain "no resistance"."""
from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from ctresist.annotate import do_annotate
from ctresist.catalogue import load_catalogue
from ctresist.errors import InputError
from ctresist.genes import header_builds, verify_build
from ctresist.interpret import Context

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "examples"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data not present (a fresh clone)")
CAT = load_catalogue()

#: Header and record lines of sigven/pcgr examples/T001-COAD.grch37.vcf.gz (MIT licence, commit
#: 8cca3c0cbd211a975e1d1c452c57cc4fe25edc21; TCGA-A6-2686 lifted to hg19 by CrossMap), with the
#: liftover lines left out so that nothing in the header names the build.
PCGR_HEADER = """##fileformat=VCFv4.2
##FILTER=<ID=PASS,Description="All filters passed">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=DPT,Number=1,Type=Integer,Description="Sequencing depth at variant position (tumor)">
##FORMAT=<ID=DPC,Number=1,Type=Integer,Description="Sequencing depth at variant position (control)">
##FORMAT=<ID=ADT,Number=.,Type=String,Description="Allelic depths for the ref and alt alleles in the order listed (tumor)">
##FORMAT=<ID=ADC,Number=.,Type=String,Description="Allelic depths for the ref and alt alleles in the order listed (control)">
##FORMAT=<ID=AL,Number=.,Type=Integer,Description="Codes for algorithms that called the somatic call (1 = muse, 2 = mutect2, 3 = somaticsniper, 4 = varscan2)">
##INFO=<ID=TCGA_CODE,Number=1,Type=String,Description="TCGA project abbreviation">
##INFO=<ID=TVAF,Number=.,Type=Float,Description="Allelic fraction of alternative allele in tumor">
##INFO=<ID=TDP,Number=.,Type=Integer,Description="Read depth across variant site in tumor">
##INFO=<ID=TAL,Number=.,Type=String,Description="Algorithms that called the somatic mutation">
"""
COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTCGA-A6-2686-01A-01D-1408-10_TCGA-A6-2686-10A-01D-2188-10\n"
KIT_37 = ("4\t55604621\t.\tC\tT\t.\tPASS\tTCGA_CODE=COAD;TVAF=0.181818181818;TDP=55;"
          "TAL=muse,mutect2,somaticsniper,varscan2\tGT:DPC:DPT:ADC:ADT:AL\t0/1:94:55:.,.:45,10:1,3,4,2\n")
BRAF_37 = ("7\t140453136\t.\tA\tT\t.\tPASS\tTCGA_CODE=COAD;TVAF=0.314814814815;TDP=54;"
           "TAL=muse,mutect2,somaticsniper,varscan2\tGT:DPC:DPT:ADC:ADT:AL\t0/1:133:54:.,.:37,17:1,3,4,2\n")
TP53_37 = ("17\t7579470\t.\tCG\tC\t.\tPASS\tTCGA_CODE=COAD;TVAF=0.783783783784;TDP=37;TAL=mutect2\t"
           "GT:DPC:DPT:ADC:ADT:AL\t0/1:54:37:.,.:8,29:2\n")


def ctx(build, driver="EGFR mutation", therapy=("osimertinib",)):
    return Context(sample="S", driver_text=driver, driver=driver, therapy_text="+".join(therapy),
                   therapy=list(therapy), specimen="tissue", build=build)


def vcf(tmp_path: Path, records: str, extra_header: str = "", name: str = "s.vcf") -> str:
    p = tmp_path / name
    p.write_text(PCGR_HEADER + extra_header + COLUMNS + records)
    return str(p)


def calls(model):
    return [(c["status"], c["gene"], c["alteration"]) for c in model["calls"]]


def test_grch37_record_declared_grch38_without_contigs_is_an_error(tmp_path):
    """The bug: a GRCh37 VCF with no ##contig lines declared GRCh38 gave a green 'No resistance'
    and missed BRAF V600E. The GRCh37 BRAF V600E allele (7:140453136 A>T) with no record at a
    GRCh38 catalogue site is now a one-line build mismatch."""
    p = vcf(tmp_path, KIT_37 + BRAF_37 + TP53_37)
    with pytest.raises(InputError) as exc:
        do_annotate(ctx("GRCh38"), p, None, CAT)
    assert str(exc.value) == (
        f"{p}: record 7:140453136 A>T is the GRCh37 BRAF V600E allele, and no record matches a "
        "GRCh38 catalogue site, but the sample sheet says genome_build GRCh38; fix genome_build "
        "or use the GRCh38 VCF")


def test_same_file_declared_grch37_is_verified_and_finds_braf_v600e(tmp_path):
    """Declared GRCh37, the record matches the GRCh37 reference at a catalogue site: verified,
    and BRAF V600E (54 reads, 17 alt) resists osimertinib."""
    m = do_annotate(ctx("GRCh37"), vcf(tmp_path, KIT_37 + BRAF_37 + TP53_37), None, CAT)
    assert m["build_check"]["status"] == "verified"
    assert m["build_check"]["reason"] == ("1 record(s) match GRCh37 reference bases at catalogue "
                                          "sites, e.g. record 7:140453136 A>T is the GRCh37 BRAF "
                                          "V600E allele")
    assert calls(m) == [("actionable_resistance", "BRAF", "V600E")]
    braf = m["calls"][0]
    assert (braf["depth"], braf["alt_reads"]) == (54, 17)
    assert not any(x.startswith("genome build not verified") for x in m["summary"]["limitations"])


def test_no_evidence_either_way_is_not_verified_and_never_a_plain_negative(tmp_path):
    """KIT and TP53 records only (no catalogue site, no contigs, no assembly name): the report
    model says the build is not verified, and the headline is not 'No resistance'."""
    m = do_annotate(ctx("GRCh38"), vcf(tmp_path, KIT_37 + TP53_37), None, CAT)
    bc = m["build_check"]
    assert bc["status"] == "not_verified"
    reason = ("the VCF has no ##contig lengths, no assembly name in its header and no record at a "
              "catalogue site")
    assert bc["reason"] == reason
    assert m["summary"]["headline"] == (
        f"No catalogue resistance found, but the genome build could not be verified: {reason}")
    assert m["summary"]["limitations"][0] == f"genome build not verified: {reason}"


def test_ref_that_differs_from_the_declared_reference_is_an_error(tmp_path):
    """A record at the GRCh38 BRAF V600E site whose REF is G (GRCh38 has A there) cannot be a
    GRCh38 record."""
    rec = BRAF_37.replace("7\t140453136\t.\tA\tT", "7\t140753336\t.\tG\tT")
    p = vcf(tmp_path, rec)
    with pytest.raises(InputError, match=r"record 7:140753336 G>T has a REF that differs from the "
                                         r"GRCh38 reference base at this catalogue site, but the "
                                         r"sample sheet says genome_build GRCh38"):
        do_annotate(ctx("GRCh38"), p, None, CAT)


@pytest.mark.parametrize("line,declared", [
    ("##reference=file:///ref/human_g1k_v37.fasta\n", "GRCh38"),
    ("##reference=/data/GCA_000001405.15_GRCh38_no_alt_analysis_set.fna\n", "GRCh37"),
    ("##contig=<ID=7,assembly=hg19>\n", "GRCh38"),
    ('##VEP="v110" time="2024-01-01" cache="/vep/homo_sapiens/110_GRCh38" assembly="GRCh38.p14"\n', "GRCh37"),
    ('##GATKCommandLine=<ID=Mutect2,CommandLine="Mutect2 --reference /ref/hs37d5.fa --output x.vcf">\n', "GRCh38"),
])
def test_assembly_named_in_the_header_contradicting_the_sheet_is_an_error(tmp_path, line, declared):
    p = vcf(tmp_path, KIT_37, extra_header=line)
    with pytest.raises(InputError, match=rf"but the sample sheet says genome_build {declared}; fix genome_build"):
        do_annotate(ctx(declared), p, None, CAT)


def test_header_build_names():
    """Assembly names as whole tokens; a chain file counts for its target; a lifted VCF is judged
    by its liftover lines; a line naming both builds says nothing."""
    assert header_builds("##reference=file:///projects/gatk/2.3/ucsc.hg19.fasta\n") == [
        ("GRCh37", "header ##reference names 'hg19'")]
    assert header_builds("##reference=GRCh38\n##liftOverChainFile=/c/hg38ToHg19.over.chain.gz\n") == [
        ("GRCh37", "header ##liftOverChainFile is a chain to Hg19 (hg38ToHg19)")]
    assert header_builds("##source=compare hg19 and hg38\n") == []
    assert header_builds("##reference=/ref/Homo_sapiens_assembly38.fasta\n") == [
        ("GRCh38", "header ##reference names 'Homo_sapiens_assembly38'")]
    assert header_builds("##INFO=<ID=gnomAD,Description=\"gnomAD GRCh38 AF\">\n") == []
    assert header_builds("##reference=/ref/b37x.fa\n##source=tool_hg380\n") == []


def test_position_beyond_the_declared_chromosome_length():
    """chr1:249,000,000 exists in GRCh37 (249,250,621 bp) but not in GRCh38 (248,956,422 bp)."""
    with pytest.raises(InputError, match=r"x\.vcf: chromosome 1 position 249,000,000 is beyond its GRCh38 "
                                         r"length 248,956,422 \(within GRCh37's 249,250,621\), but the "
                                         r"sample sheet says genome_build GRCh38"):
        verify_build("x.vcf", "GRCh38", "", {}, [], {"chr1": 249_000_000})
    assert verify_build("x.vcf", "GRCh37", "", {}, [], {"chr1": 249_000_000})["status"] == "not_verified"


def test_header_support_outweighs_a_chance_other_build_allele():
    """Contig lengths say GRCh38: a single record that happens to equal a GRCh37 catalogue allele
    does not overrule them (a REF mismatch at a GRCh38 site would)."""
    bc = verify_build("x.vcf", "GRCh38", "", {"1": 248956422, "7": 159345973},
                      [("record", "7", 140453136, "A", "T")])
    assert bc["status"] == "verified" and bc["reason"] == "header contig lengths are GRCh38"


@needs_shared
@pytest.mark.parametrize("name,build,other,first_evidence,found", [
    ("pcgr/T001-COAD.grch37.vcf.gz", "GRCh37", "GRCh38",
     "header ##liftOverFile is a chain to Hg19 (hg38ToHg19)", ("BRAF", "V600E", 54, 17)),
    ("pcgr/T001-COAD.grch38.vcf.gz", "GRCh38", "GRCh37",
     "header ##liftOverChainFile is a chain to hg38 (hg19Tohg38)", ("BRAF", "V600E", 54, 17)),
    ("pcgr/T001-BRCA.grch37.vcf.gz", "GRCh37", "GRCh38",
     "header ##liftOverFile is a chain to Hg19 (hg38ToHg19)", ("PIK3CA", "H1047R", 74, 31)),
    ("pcgr/T001-BRCA.grch38.vcf.gz", "GRCh38", "GRCh37",
     "header ##liftOverChainFile is a chain to hg38 (hg19Tohg38)", ("PIK3CA", "H1047R", 74, 31)),
])
def test_real_pcgr_vcfs_without_contig_lines(name, build, other, first_evidence, found):
    """PCGR's TCGA examples have no ##contig lines; their liftover lines name the build. Declared
    right: verified, and the hotspot is found with its read counts; declared wrong: one error."""
    path = str(SHARED / name)
    m = do_annotate(ctx(build), path, None, CAT)
    assert m["build_check"]["status"] == "verified"
    assert m["build_check"]["evidence"][0] == f"{first_evidence} ({build})"
    [c] = m["calls"]
    assert (c["status"], c["gene"], c["alteration"], c["depth"], c["alt_reads"]) == (
        "actionable_resistance", *found)
    with pytest.raises(InputError) as exc:
        do_annotate(ctx(other), path, None, CAT)
    assert str(exc.value).startswith(f"{path}: {first_evidence} ({build}), but the sample sheet "
                                     f"says genome_build {other}; fix genome_build")


@needs_shared
def test_real_varcode_hg19_vcf():
    """varcode's somatic_hg19_14muts.vcf (hg19 contigs, ##reference ucsc.hg19.fasta, GT only):
    declared GRCh38 is refused on the contig lengths; declared GRCh37 it is verified and KRAS G12A
    (chr12:25398284 C>G, no read counts) is low support, never actionable."""
    path = str(SHARED / "varcode" / "somatic_hg19_14muts.vcf")
    with pytest.raises(InputError, match=r"header contig lengths are GRCh37, but the sample sheet "
                                         r"says genome_build GRCh38;.*also: header ##reference names 'hg19'"):
        do_annotate(ctx("GRCh38"), path, None, CAT)
    m = do_annotate(ctx("GRCh37"), path, None, CAT)
    assert m["build_check"]["evidence"] == [
        "header contig lengths are GRCh37", "header ##reference names 'hg19' (GRCh37)",
        "1 record(s) match GRCh37 reference bases at catalogue sites, e.g. record chr12:25398284 "
        "C>G is the GRCh37 KRAS G12A allele"]
    kras = [c for c in m["calls"] if c["gene"] == "KRAS"]
    assert kras and all(c["status"] != "actionable_resistance" for c in kras)
    assert kras[0]["support"].startswith("read counts unknown")
    assert m["summary"]["actionable"] is False


def test_gzip_real_header_fixture_matches_source():
    """The inline PCGR header lines above are the real file's (when ../shared is present)."""
    src = SHARED / "pcgr" / "T001-COAD.grch37.vcf.gz"
    if not src.exists():
        pytest.skip("../shared/data not present (a fresh clone)")
    with gzip.open(src, "rt") as fh:
        real = fh.read().splitlines(keepends=True)
    for line in PCGR_HEADER.splitlines(keepends=True) + [COLUMNS, KIT_37, BRAF_37, TP53_37]:
        assert line in real


def test_knowledge_is_found_from_any_folder_and_in_an_installed_package(tmp_path):
    """annotations_dir(): $CTRESIST_ANNOTATIONS wins; otherwise annotations shipped inside the
    package (a non-editable install) come before the checkout's folder; the working directory never
    matters. Run in a fresh interpreter from an unrelated folder, on a copy of the package laid
    out as site-packages would hold it (ctresist/ with annotations/ and workflow/schemas/ as package
    data, see pyproject.toml)."""
    import shutil
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    site = tmp_path / "site"
    shutil.copytree(repo / "src" / "ctresist", site / "ctresist",
                    ignore=shutil.ignore_patterns("__pycache__", "annotations", "schemas"))
    shutil.copytree(repo / "annotations", site / "ctresist" / "annotations")
    (site / "ctresist" / "workflow" / "schemas").mkdir(parents=True)
    shutil.copy(repo / "workflow" / "schemas" / "samples.schema.yaml",
                site / "ctresist" / "workflow" / "schemas")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "s.tsv").write_text(
        "sample\tpatient\tcollection_date\tspecimen\tvcf\tdriver\ttherapy\tgenome_build\n"
        "S1\tP1\t2024-01-10\tplasma\tx.vcf\tEML4-ALK\tAlecensa\tGRCh38\n")
    code = ("from ctresist.genes import annotations_dir, genes_for_build; "
            "from ctresist.catalogue import load_catalogue; from ctresist.sheet import read_sheet; "
            "print(annotations_dir()); print(len(genes_for_build('GRCh38')) > 0, "
            "len(load_catalogue().entries) > 0, read_sheet('s.tsv', check_files=False).loc['S1', 'therapy'])")
    env = {k: v for k, v in __import__("os").environ.items()
           if k not in ("CTRESIST_ANNOTATIONS", "CTRESIST_SHEET_SCHEMA")}
    env["PYTHONPATH"] = str(site)
    out = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [str(site / "ctresist" / "annotations"), "True True Alecensa"]
    env["CTRESIST_ANNOTATIONS"] = str(repo / "annotations")
    out = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.stdout.splitlines()[0] == str(repo / "annotations")
    del env["CTRESIST_ANNOTATIONS"]
    env["PYTHONPATH"] = str(repo / "src")  # a checkout, run from another folder
    out = subprocess.run([sys.executable, "-c", code.replace("print(len(", "0 and print(len(")],
                         cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.splitlines() == [str(repo / "annotations")], out.stderr


def test_streamed_position_past_the_declared_chromosome_end_is_a_mismatch(tmp_path):
    """#9.4: after reading, any POS beyond the declared build's chromosome length (here 1:249,000,000,
    outside every catalogue gene, within GRCh37 chr1 but past GRCh38's end) is a build mismatch."""
    far = KIT_37.replace("4\t55604621", "1\t249000000")
    p = vcf(tmp_path, far + KIT_37)
    with pytest.raises(InputError) as exc:
        do_annotate(ctx("GRCh38"), p, None, CAT)
    assert str(exc.value) == (
        f"{p}: chromosome 1 position 249,000,000 is beyond its GRCh38 length 248,956,422 (within "
        "GRCh37's 249,250,621), but the sample sheet says genome_build GRCh38; fix genome_build or "
        "use the GRCh38 VCF")
    assert do_annotate(ctx("GRCh37"), p, None, CAT)["build_check"]["status"] == "not_verified"


def test_exact_catalogue_allele_is_read_when_the_annotation_gives_no_protein_change(tmp_path):
    """A VEP record for 2:29220747 C>T (the GRCh38 ALK G1202R allele) whose CSQ has no HGVSp was
    'not interpretable' and the report said 'No resistance'. The exact catalogue allele is now read
    as G1202R (actionable on alectinib); a non-catalogue allele stays not interpretable and the
    headline says what could not be examined."""
    header = ('##fileformat=VCFv4.2\n##contig=<ID=2,length=242193529>\n'
              '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from '
              'Ensembl VEP. Format: Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|'
              'BIOTYPE|EXON|HGVSc|HGVSp|CANONICAL|MANE_SELECT|gnomAD_AF">\n'
              '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
              '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n'
              '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">\n'
              '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR\n')
    rec = ("2\t{pos}\t.\tC\t{alt}\t.\tPASS\tCSQ={alt}|missense_variant|MODERATE|ALK|ENSG00000171094|"
           "Transcript|ENST00000389048.8|protein_coding|22/29|ENST00000389048.8:c.3604G>A||YES|"
           "NM_004304.5|\tGT:AD:DP\t0/1:2900,100:3000\n")
    p = tmp_path / "g1202r_no_hgvsp.vcf"
    p.write_text(header + rec.format(pos=29220747, alt="T"))
    c = Context(sample="S", driver_text="EML4-ALK", driver="ALK fusion", therapy_text="alectinib",
                therapy=["alectinib"], specimen="plasma", build="GRCh38")
    m = do_annotate(c, str(p), None, CAT)
    assert calls(m) == [("actionable_resistance", "ALK", "G1202R")]
    assert m["calls"][0]["annotation"] == "known_site" and m["not_interpretable"] == []
    p.write_text(header + rec.format(pos=29220748, alt="T"))
    m = do_annotate(c, str(p), None, CAT)
    assert m["calls"] == [] and len(m["not_interpretable"]) == 1
    assert m["summary"]["headline"] == (
        "No catalogue resistance found among the interpretable variants, but 1 variant(s) in "
        "catalogue genes could not be interpreted: see 'not interpretable'")


def test_records_matching_both_builds_leave_the_build_not_verified():
    """Without header evidence, a GRCh37 catalogue allele plus a record agreeing with a GRCh38
    catalogue site is a conflict: not verified (said in the report), never silently verified."""
    bc = verify_build("x.vcf", "GRCh38", "", {},
                      [("record", "7", 140453136, "A", "T"), ("record", "7", 140753336, "A", "C")])
    assert bc["status"] == "not_verified"
    assert bc["reason"] == ("the VCF has no ##contig lengths, no assembly name in its header and "
                            "records at catalogue sites match both GRCh38 and GRCh37")
    assert bc["evidence"] == [
        "1 record(s) match GRCh38 reference bases at catalogue sites, e.g. record 7:140753336 A>C "
        "is the GRCh38 BRAF V600G allele",
        "1 record(s) match GRCh37 reference bases at catalogue sites, e.g. record 7:140453136 A>T "
        "is the GRCh37 BRAF V600E allele"]
