rule annotate:
    input:
        sample_inputs,
        sheet=config["samples"],
        catalogue=catalogue_files(),
        config="config/config.yaml",
    output:
        "results/{sample}/report.json",
    log:
        "logs/annotate/{sample}.log",
    shell:
        "ctresist --annotations annotations annotate --sheet {input.sheet:q} --sample {wildcards.sample:q} "
        "--config {input.config:q} -o {output:q} 2> {log:q}"


rule render:
    input:
        "results/{sample}/report.json",
    output:
        html=report(
            "results/{sample}/report.html",
            caption="../report/report.rst",
            category="Sample reports",
        ),
        tsv="results/{sample}/calls.tsv",
    log:
        "logs/render/{sample}.log",
    shell:
        "ctresist render {input:q} --html {output.html:q} --tsv {output.tsv:q} 2> {log:q}"
