# ctresist: resistance to targeted therapy from tissue or plasma (ctDNA) VCF + CNV calls.
from snakemake.utils import min_version

min_version("8.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/annotate.smk"
include: "workflow/rules/longitudinal.smk"


rule all:
    input:
        all_outputs(),
