localrules:
    summary,
    check,


rule summary:
    input:
        # every report: a sample added to a group is a missing input, which reruns its group
        expand("results/{sample}/report.json", sample=samples.index),
    output:
        tsv="results/_batch/summary.tsv",
        html=report(
            "results/_batch/summary.html",
            caption="../report/summary.rst",
            category="Batch summary",
            labels={"type": "summary"},
        ),
        mqc_tsv="results/_batch/ctresist_mqc.tsv",
        mqc_yaml="results/_batch/ctresist_mqc.yaml",
    log:
        "logs/summary/summary.log",
    conda:
        "../envs/ctresist.yaml"
    script:
        "../scripts/summary.py"


rule check:
    input:
        "results/_batch/summary.tsv",
    output:
        "results/_batch/all_samples_analysed.txt",
    log:
        "logs/summary/check.log",
    conda:
        "../envs/ctresist.yaml"
    shell:
        "ctresist check-summary {input:q} -o {output:q} 2> {log:q}"
