#!/usr/bin/env bash
# Start the same training command on every worker of a Cloud TPU VM slice.
#
#   scripts/launch_tpu.sh TPU_NAME ZONE -- --config experiments/vae_mnist.py \
#       --workdir gs://BUCKET/runs/vae_mnist [--config.KEY=VALUE ...]
#
# Every worker runs scripts/train.py with AEJAX_MULTIHOST=1, which makes the entry point call
# jax.distributed.initialize() (on Cloud TPU it finds the coordinator and process ids itself).
# The code is unchanged from CPU/GPU: the mesh spans jax.devices() of all workers and each batch
# is split over them (train.data_parallel=True). Assumes the repo is checked out at ~/aejax on
# every worker with its .venv (e.g. a previous `--command "git clone ... && make venv"`) and
# that --workdir is on storage every worker can reach (a GCS bucket).
set -euo pipefail
if [[ $# -lt 3 || "$3" != "--" ]]; then
  echo "usage: $0 TPU_NAME ZONE -- TRAIN_FLAGS..." >&2
  exit 2
fi
tpu="$1"
zone="$2"
shift 3
args=$(printf ' %q' "$@")
gcloud compute tpus tpu-vm ssh "$tpu" --zone "$zone" --worker=all --command \
  "cd ~/aejax && AEJAX_MULTIHOST=1 .venv/bin/python scripts/train.py${args} 2>&1 | tee -a ~/train_\$(hostname).log"
