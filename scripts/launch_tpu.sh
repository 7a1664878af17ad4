#!/usr/bin/env bash
# Set up and run aejax on every worker of a Cloud TPU VM (one worker, or a multi-host slice).
#
#   scripts/launch_tpu.sh [--dry_run] setup TPU_NAME ZONE [REPO_URL [BRANCH]]
#       On every worker: Python >= 3.11 (from the deadsnakes PPA when the image has 3.10), git
#       clone REPO_URL (default: this checkout's origin) into ~/aejax or pull it, and
#       `make install-tpu` (.venv with jax[tpu], gcsfs, google-cloud-storage).
#   scripts/launch_tpu.sh [--dry_run] train TPU_NAME ZONE -- TRAIN_FLAGS...
#       On every worker, in the background: AEJAX_MULTIHOST=1 .venv/bin/python scripts/train.py
#       TRAIN_FLAGS, appending to ~/aejax-train-<hostname>.log on that worker (pid in
#       ~/aejax-train.pid; refuses to start while that process still runs). Rerunning the same
#       command after a stop or a preemption resumes from the newest checkpoint in --workdir,
#       which must be storage every worker sees (gs://BUCKET/...).
#   scripts/launch_tpu.sh [--dry_run] stop TPU_NAME ZONE
#       SIGTERM to the training process on every worker: it saves at the end of its chunk and
#       exits (the workers agree on the step).
#   scripts/launch_tpu.sh [--dry_run] logs TPU_NAME ZONE [WORKER]
#       Follow worker WORKER's log (default 0; process 0 also writes metrics.jsonl).
#
# --dry_run prints the gcloud command and the command each worker would run, and runs nothing.
# With AEJAX_MULTIHOST=1 scripts/train.py calls jax.distributed.initialize(), which on Cloud TPU
# finds the coordinator and the process ids itself; the mesh spans the chips of all workers.
set -euo pipefail

USAGE="usage: $0 [--dry_run] {setup TPU_NAME ZONE [REPO_URL [BRANCH]] | train TPU_NAME ZONE -- TRAIN_FLAGS... | stop TPU_NAME ZONE | logs TPU_NAME ZONE [WORKER]}"
# Paths on each worker, expanded there (not here).
# shellcheck disable=SC2088,SC2016
REPO_DIR='~/aejax' LOG='~/aejax-train-$(hostname).log' PID='~/aejax-train.pid'

die() { # one line on stderr, exit status 2
  echo "error: $1; $USAGE" >&2
  exit 2
}

# One shell word: as it is when it needs no quoting, else single-quoted.
q() {
  case $1 in
    '') printf "''" ;;
    *[!A-Za-z0-9_./:=@%+,-]*)
      local r="'\\''"
      printf "'%s'" "${1//\'/$r}"
      ;;
    *) printf '%s' "$1" ;;
  esac
}

dry_run=0
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --dry_run | --dry-run) dry_run=1 ;;
    *) die "unknown option $1" ;;
  esac
  shift
done
[[ $# -ge 1 ]] || die "no command given"
cmd=$1
shift
[[ $cmd =~ ^(setup|train|stop|logs)$ ]] || die "unknown command '$cmd'"
[[ $# -ge 2 ]] || die "$cmd needs TPU_NAME and ZONE"
tpu=$1
zone=$2
shift 2
[[ $tpu =~ ^[a-z][-a-z0-9]*$ ]] || die "TPU_NAME '$tpu' is not a TPU name (lower-case letters, digits, -)"
[[ $zone =~ ^[a-z]+-[a-z]+[0-9]+-[a-z]$ ]] || die "ZONE '$zone' is not a zone (e.g. us-central2-b)"
worker=all

case $cmd in
  setup)
    [[ $# -le 2 ]] || die "setup takes at most REPO_URL and BRANCH after ZONE"
    url=${1:-}
    branch=${2:-}
    if [[ -z $url ]]; then
      url=$(git -C "$(dirname "$0")/.." remote get-url origin 2>/dev/null) ||
        die "no REPO_URL given and this checkout has no origin remote"
    fi
    checkout=""
    [[ -z $branch ]] || checkout="git checkout -q $(q "$branch") && "
    remote="set -e; PY=python3; if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then PY=python3.12; command -v python3.12 >/dev/null || sudo add-apt-repository -y ppa:deadsnakes/ppa; fi; need=; for p in git make \$PY; do command -v \$p >/dev/null || need=\"\$need \$p\"; done; \$PY -c 'import ensurepip' 2>/dev/null || need=\"\$need \$PY-venv\"; if [ -n \"\$need\" ]; then sudo apt-get update -q && sudo apt-get install -y -q \$need; fi; if [ -d $REPO_DIR/.git ]; then git -C $REPO_DIR fetch -q origin; else git clone -q $(q "$url") $REPO_DIR; fi; cd $REPO_DIR && ${checkout}git pull -q --ff-only && make install-tpu PYTHON=\$PY && echo \"\$(hostname): ready\""
    ;;
  train)
    [[ $# -ge 1 && $1 == "--" ]] || die "train needs -- before the train flags"
    shift
    [[ $# -ge 1 ]] || die "no train flags after --"
    has_config=0
    has_workdir=0
    workdir=""
    prev=""
    for a in "$@"; do
      [[ $a == --config || $a == --config=* ]] && has_config=1
      if [[ $prev == --workdir ]]; then workdir=$a; fi
      if [[ $a == --workdir=* ]]; then workdir=${a#--workdir=}; fi
      [[ $a == --workdir || $a == --workdir=* ]] && has_workdir=1
      prev=$a
    done
    [[ $has_config == 1 && $has_workdir == 1 ]] || die "the train flags need --config and --workdir"
    if [[ $workdir != gs://* ]]; then
      echo "note: --workdir $workdir is not gs://...; every worker must see the same directory" >&2
    fi
    flags=""
    for a in "$@"; do flags+=" $(q "$a")"; done
    remote="cd $REPO_DIR || exit 2; if [ -e $PID ] && kill -0 \"\$(cat $PID)\" 2>/dev/null; then echo \"error: \$(hostname): training process \$(cat $PID) is still running (scripts/launch_tpu.sh stop)\" >&2; exit 2; fi; AEJAX_MULTIHOST=1 nohup .venv/bin/python scripts/train.py$flags >> $LOG 2>&1 < /dev/null & echo \$! > $PID; echo \"\$(hostname): started pid \$!, log $LOG\""
    ;;
  stop)
    [[ $# -eq 0 ]] || die "stop takes nothing after ZONE"
    remote="if [ -e $PID ] && kill -TERM \"\$(cat $PID)\" 2>/dev/null; then echo \"\$(hostname): sent SIGTERM to \$(cat $PID)\"; else echo \"\$(hostname): no training process running\"; fi"
    ;;
  logs)
    [[ $# -le 1 ]] || die "logs takes at most WORKER after ZONE"
    worker=${1:-0}
    [[ $worker =~ ^[0-9]+$ ]] || die "WORKER '$worker' is not a worker number"
    remote="tail -n 100 -F $LOG"
    ;;
esac

gcloud_cmd=(gcloud compute tpus tpu-vm ssh "$tpu" "--zone=$zone" "--worker=$worker" --command "$remote")
if [[ $dry_run == 1 ]]; then
  echo "# run here:"
  line=""
  for a in "${gcloud_cmd[@]}"; do line+="$(q "$a") "; done
  echo "${line% }"
  echo "# runs on worker(s) $worker:"
  echo "$remote"
  exit 0
fi
command -v gcloud >/dev/null || {
  echo "error: gcloud not found; install the Google Cloud CLI and run gcloud init" >&2
  exit 2
}
exec "${gcloud_cmd[@]}"
