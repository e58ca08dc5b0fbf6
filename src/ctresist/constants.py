"""Defaults, each with the reason it has this value. All are overridable in config.yaml."""
from __future__ import annotations

#: Read support needed before a catalogue match is called confidently. ctDNA assays report real
#: variants down to 0.1-1 % VAF, so plasma keeps a VAF floor of 0.1 % and relies on alt-read
#: support; tissue uses the conventional 2 % floor of tumour-only panel calling. Below these a
#: match is reported as "low support: confirm", never dropped and never flagged actionable.
DEFAULT_THRESHOLDS: dict[str, dict[str, float]] = {
    "plasma": {"min_depth": 100, "min_alt_reads": 3, "min_vaf": 0.001},
    "tissue": {"min_depth": 20, "min_alt_reads": 4, "min_vaf": 0.02},
}
#: Focal amplification: gene copy number (corrected for tumour fraction when known) of >= 5
#: copies, the usual high-level gain cut-off for MET/ERBB2 amplification in NGS panels.
AMPLIFICATION_MIN_CN = 5.0
#: Plasma copy number is diluted by normal cfDNA; with no tumour fraction given, an observed
#: CN >= 2.5 is reported as "possible amplification, confirm" (not actionable).
PLASMA_UNCORRECTED_MIN_CN = 2.5
#: A gain whose run spans >= this fraction of the gene's chromosome arm is a broad (arm-level or
#: whole-chromosome) gain, not a focal amplification; it is reported as such, never called
#: amplification. Measuring gains as a fraction of the chromosome arm follows GISTIC 2.0 (Mermel
#: et al., Genome Biol 2011;12:R41, doi:10.1186/gb-2011-12-4-r41), which calls arm-level the
#: alterations longer than 98 % of an arm; ctresist is stricter (half an arm), so a gain covering
#: most of 7q is never read as a focal MET amplification.
FOCAL_MAX_FRACTION = 0.5
#: Homozygous deletion for loss entries (RB1): corrected CN below 0.5.
DELETION_MAX_CN = 0.5
#: Population allele frequency (gnomAD/1000G in VEP CSQ) above which a variant is germline.
GERMLINE_POPULATION_AF = 0.01
#: Alt reads in the matched normal (buffy coat / white blood cells) at or above which a variant is
#: germline or clonal haematopoiesis, not tumour.
NORMAL_MAX_ALT_READS = 2
#: Genes whose plasma variants often come from clonal haematopoiesis rather than the tumour
#: (the CH genes named in the project brief plus the common CH drivers: DNMT3A, TET2 and ASXL1
#: carry most CH mutations in blood, Jaiswal et al., N Engl J Med 2014;371:2488-98, "Age-related
#: clonal hematopoiesis associated with adverse outcomes"; Genovese et al., N Engl J Med
#: 2014;371:2477-87, doi:10.1056/NEJMoa1409405); without a matched white-blood-cell normal such
#: calls carry a CH caution.
CH_GENES = frozenset({"DNMT3A", "TET2", "ASXL1", "PPM1D", "JAK2", "TP53", "SF3B1", "SRSF2",
                      "CBL", "GNB1", "GNAS", "CHEK2", "U2AF1", "IDH2", "BRCC3", "ATM"})
#: Driver kinases whose fusions define the driver context.
FUSION_KINASES = ("ALK", "RET", "NTRK1", "NTRK2", "NTRK3", "ROS1")
#: Driver contexts defined by one activating allele, and that allele: in such a sample the allele
#: is the driver itself, never a resistance finding (catalogue.yaml lists each context's drugs).
DRIVER_ALTERATIONS = {"KRAS G12C": ("KRAS", "G12C"), "BRAF V600E": ("BRAF", "V600E")}
#: TP53 missense hotspots (>= 100 tumours in cancerhotspots.org v2, PMID:26619011) read as TP53
#: inactivation for the TP53+RB1 small-cell transformation hint; truncating variants count too.
TP53_LOF_RESIDUES = frozenset({175, 176, 179, 193, 220, 245, 248, 249, 266, 273, 278, 280, 282, 158})
#: Caller FILTER values that say the variant is not tumour-derived (Mutect2 germline /
#: normal_artifact / panel_of_normals, Strelka/VarDict equivalents): such catalogue matches are
#: excluded. Any other FILTER (weak_evidence, strand_bias, low VAF ...) only lowers confidence: a
#: filtered low-VAF resistance mutation is shown as "possible, confirm", never hidden.
NOT_TUMOUR_FILTERS = frozenset({"germline", "germline_risk", "normal_artifact", "panel_of_normals",
                                "PON", "pon", "Germline", "NormalArtifact", "contamination"})
