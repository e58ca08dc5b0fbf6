# ctresist: the workflow is workflow/Snakefile (catalog layout); this file lets `snakemake` run
# from the repository root.


include: "workflow/Snakefile"


rule default:
    default_target: True
    input:
        rules.all.input,
