# The batch summary (TSV + HTML) and the MultiQC custom content of all sample reports.
import sys

from ctresist.batch import summarise

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected by the script directive)
out = snakemake.output  # noqa: F821
summarise(list(snakemake.input), [], out.tsv, out.html, out.mqc_tsv, out.mqc_yaml)  # noqa: F821
