#!/usr/bin/env bash
# Stop exactly the daemons scripts/slurm-up.sh started: the PIDs recorded in $STATE/<name>.pid, each
# checked against its command name first (a recycled PID is left alone). Idempotent: a daemon not
# running, or a PID file absent, is skipped. Packages, configuration and the accounting database stay.
set -euo pipefail

STATE=${REPRO_SLURM_STATE:-/run/repro-slurm}

log() { printf '[slurm-down %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null; then exec sudo -E "$0" "$@"; fi
    log "ERROR: must run as root (or with sudo available) to stop system daemons."; exit 1
fi

# stop NAME COMM: SIGTERM the recorded PID if it is still COMM, wait up to 20 s, then SIGKILL.
stop() {
    local name=$1 comm=$2 f="$STATE/$1.pid" pid
    [[ -s $f ]] || return 0
    pid=$(<"$f")
    if [[ -r /proc/$pid/comm && $(</proc/$pid/comm) == "$comm"* ]]; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 100); do [[ -d /proc/$pid ]] || break; sleep 0.2; done
        if [[ -d /proc/$pid ]]; then log "$name (pid $pid) ignored SIGTERM; sending SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
        log "$name (pid $pid) stopped"
    else
        log "$name (pid $pid) not running"
    fi
    rm -f "$f"
}

# Reverse order of start: compute daemons first, storage last.
stop slurmd slurmd
stop slurmctld slurmctld
stop slurmdbd slurmdbd
stop mariadbd mariadbd
stop munged munged
