rule longitudinal:
    input:
        patient_reports,
    output:
        html="results/_patients/{patient}/timeline.html",
        tsv="results/_patients/{patient}/timeline.tsv",
        json="results/_patients/{patient}/timeline.json",
    log:
        "logs/longitudinal/{patient}.log",
    shell:
        "ctresist longitudinal {input:q} --patient {wildcards.patient:q} "
        "--json {output.json:q} --tsv {output.tsv:q} --html {output.html:q} 2> {log:q}"


rule summary:
    input:
        expand("results/{sample}/report.json", sample=samples.index),
    output:
        tsv="results/_batch/summary.tsv",
        html="results/_batch/summary.html",
    log:
        "logs/summary/summary.log",
    shell:
        "ctresist summary {input:q} --tsv {output.tsv:q} --html {output.html:q} 2> {log:q}"
