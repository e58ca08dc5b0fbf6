#!/usr/bin/env bash
# Run by Snakemake inside the freshly created conda environment of workflow/envs/ctresist.yaml:
# install the ctresist package (with its catalogue) from the repository this workflow lives in.
set -euo pipefail
pip install --no-deps "$(dirname "$(readlink -f "$0")")/../.."
