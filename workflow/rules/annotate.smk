rule annotate:
    input:
        unpack(sample_files),
        knowledge=knowledge_files(),
        genes=local(os.path.join(ANNOTATIONS, "genes.tsv")),
    output:
        json="results/{sample}/report.json",
        html=report(
            "results/{sample}/report.html",
            caption="../report/report.rst",
            category="Sample reports",
            labels={"sample": "{sample}", "type": "report"},
        ),
        tsv="results/{sample}/calls.tsv",
    log:
        "logs/annotate/{sample}.log",
    conda:
        "../envs/ctresist.yaml"
    resources:
        runtime=RUNTIME,
        timeout_s=TIMEOUT,
    params:
        values=annotate_values,
        files=annotate_files,
        settings=annotate_settings,
        annotations=annotations_of,
    shell:
        "ctresist --annotations {params.annotations:q} --timeout {resources.timeout_s} "
        "annotate {params.values} {params.files} --settings {params.settings:q} "
        "-o {output.json:q} --html {output.html:q} --tsv {output.tsv:q} 2> {log:q}"
