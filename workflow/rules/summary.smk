localrules:
    longitudinal,
    summary,


rule longitudinal:
    input:
        patient_reports,
    output:
        html=report(
            "results/_patients/{patient}/timeline.html",
            caption="../report/timeline.rst",
            category="Patient timelines",
            labels={"patient": "{patient}", "type": "timeline"},
        ),
        tsv="results/_patients/{patient}/timeline.tsv",
        json="results/_patients/{patient}/timeline.json",
        svg="results/_patients/{patient}/timeline.svg",
    log:
        "logs/longitudinal/{patient}.log",
    conda:
        "../envs/ctresist.yaml"
    resources:
        timeout_s=TIMEOUT,
    shell:
        "ctresist --timeout {resources.timeout_s} longitudinal {input:q} "
        "--patient {wildcards.patient:q} --json {output.json:q} --tsv {output.tsv:q} "
        "--html {output.html:q} 2> {log:q}"


rule summary:
    input:
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
