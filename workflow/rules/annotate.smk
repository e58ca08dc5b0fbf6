# One job per group of patients (config patients_per_job): one ctresist process annotates the
# group's samples one after another, then writes its patients' timelines. A sample that fails
# gets failure reports ("not analysed", with its error line) and the job goes on; the final
# `check` rule fails the run while any sample has failed.
for _chunk in CHUNKS:

    rule:
        name:
            f"annotate_{_chunk}"
        input:
            unpack(lambda wildcards, c=_chunk: chunk_files(c)),
            knowledge=knowledge_files(),
            genes=local(os.path.join(ANNOTATIONS, "genes.tsv")),
        output:
            chunk_outputs(_chunk),
        log:
            group=f"logs/annotate/_groups/{_chunk}.log",
            each=chunk_logs(_chunk),
        conda:
            "../envs/ctresist.yaml"
        resources:
            runtime=chunk_runtime(_chunk),
            timeout_s=TIMEOUT,
        params:
            values=chunk_values(_chunk),
            jobs=lambda wildcards, input, output, c=_chunk: chunk_jobs(c, input, output),
            annotations=annotations_of,
        shell:
            "ctresist --annotations {params.annotations:q} annotate-batch --jobs {params.jobs:q} "
            "--sample-timeout {resources.timeout_s} 2> {log.group:q}"
