#!/usr/bin/env bash
# Bring up a single-node Slurm cluster (slurmctld + slurmd + slurmdbd/MariaDB accounting + munge) from
# Debian's packages, without systemd or cgroups, and wait until `sinfo` shows the node idle.
# Idempotent: packages already installed are not reinstalled, daemons already running (recorded PID
# alive) are not restarted. Every daemon this script starts has its PID in $STATE/<name>.pid, which
# scripts/slurm-down.sh uses to stop exactly those daemons.
#
# Environment: REPRO_SLURM_STATE (default /run/repro-slurm), REPRO_SLURM_CLUSTER (default repro),
#              REPRO_SLURM_PARTITION (default debug), REPRO_SLURM_TIMEOUT (seconds to wait for idle, 60).
set -euo pipefail

STATE=${REPRO_SLURM_STATE:-/run/repro-slurm}
CLUSTER=${REPRO_SLURM_CLUSTER:-repro}
PARTITION=${REPRO_SLURM_PARTITION:-debug}
TIMEOUT=${REPRO_SLURM_TIMEOUT:-60}
TEMPLATES="$(cd "$(dirname "$0")" && pwd)/slurm"
LOGDIR=/var/log/slurm
PACKAGES=(slurmctld slurmd slurm-client munge slurmdbd mariadb-server)

log() { printf '[slurm-up %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null; then exec sudo -E "$0" "$@"; fi
    die "must run as root (or with sudo available): it installs packages and starts system daemons."
fi

t_start=$(date +%s.%N)

# ---------------------------------------------------------------- packages
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    # Package scripts must not try to start services (no systemd here): a policy-rc.d that refuses.
    own_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
        own_policy=1
    fi
    t0=$(date +%s.%N)
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    ((own_policy)) && rm -f /usr/sbin/policy-rc.d
    log "install took $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
fi

# ---------------------------------------------------------------- helpers
# alive NAME COMM: the PID recorded for NAME is running and its command name starts with COMM.
alive() {
    local f="$STATE/$1.pid" pid
    [[ -s $f ]] || return 1
    pid=$(<"$f")
    [[ -r /proc/$pid/comm ]] && [[ $(</proc/$pid/comm) == "$2"* ]]
}
# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.2 s.
wait_for() {
    local limit=$1 what=$2; shift 2
    local end=$(($(date +%s) + limit))
    until "$@" >/dev/null 2>&1; do
        (($(date +%s) < end)) || die "timed out after ${limit}s waiting for $what (logs in $LOGDIR)"
        sleep 0.2
    done
}
# record NAME PIDFILE: copy the PID a daemon wrote into our state folder (the "started by us" list).
record() {
    wait_for 15 "$1 to write $2" test -s "$2"
    cp "$2" "$STATE/$1.pid"
    log "$1 started (pid $(<"$STATE/$1.pid"))"
}

mkdir -p "$STATE" "$LOGDIR" /var/spool/slurmctld /var/spool/slurmd /run/munge /run/mysqld
chown slurm:slurm "$STATE" "$LOGDIR" /var/spool/slurmctld
chmod 775 "$STATE"
# Without systemd nobody creates these runtime folders.
chown munge:munge /run/munge && chmod 755 /run/munge
chown mysql:mysql /run/mysqld

# ---------------------------------------------------------------- configuration
HOST=$(hostname -s)
NODELINE=$(slurmd -C | head -n1)
[[ $NODELINE == NodeName=* ]] || die "unexpected 'slurmd -C' output: $NODELINE"
NODENAME=${NODELINE%% *}; NODENAME=${NODENAME#NodeName=}
DBPASS_FILE=/etc/slurm/.repro-dbpass
mkdir -p /etc/slurm
[[ -s $DBPASS_FILE ]] || { head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$DBPASS_FILE"; chmod 600 "$DBPASS_FILE"; }
DBPASS=$(<"$DBPASS_FILE")

changed=0
render() {  # render TEMPLATE DEST; sets changed=1 when DEST's content changes
    sed -e "s|@CLUSTER@|$CLUSTER|g" -e "s|@HOST@|$HOST|g" -e "s|@STATE@|$STATE|g" \
        -e "s|@NODELINE@|$NODELINE|g" -e "s|@NODENAME@|$NODENAME|g" -e "s|@PARTITION@|$PARTITION|g" \
        -e "s|@DBPASS@|$DBPASS|g" "$1" >"$2.new"
    if cmp -s "$2.new" "$2"; then rm "$2.new"; else mv "$2.new" "$2"; changed=1; fi
}
render "$TEMPLATES/slurm.conf.in" /etc/slurm/slurm.conf
render "$TEMPLATES/slurmdbd.conf.in" /etc/slurm/slurmdbd.conf
chmod 644 /etc/slurm/slurm.conf
chown slurm:slurm /etc/slurm/slurmdbd.conf && chmod 600 /etc/slurm/slurmdbd.conf

# ---------------------------------------------------------------- munge
if [[ ! -s /etc/munge/munge.key ]]; then
    mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null \
        || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
fi
if ! alive munged munged; then
    rm -f /run/munge/munged.pid
    setpriv --reuid=munge --regid=munge --init-groups munged --pid-file=/run/munge/munged.pid
    record munged /run/munge/munged.pid
fi
wait_for 10 "munge to accept credentials" sh -c 'munge -n | unmunge'

# ---------------------------------------------------------------- MariaDB (accounting storage)
if [[ ! -d /var/lib/mysql/mysql ]]; then
    log "initialising MariaDB data folder"
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
fi
if ! alive mariadbd mariadbd; then
    rm -f /run/mysqld/mariadbd.pid
    setsid mariadbd --user=mysql --skip-networking --socket=/run/mysqld/mysqld.sock \
        --pid-file=/run/mysqld/mariadbd.pid --log-error="$LOGDIR/mariadb.log" </dev/null >/dev/null 2>&1 &
    record mariadbd /run/mysqld/mariadbd.pid
fi
wait_for 30 "MariaDB socket" mariadb -uroot -e 'SELECT 1'
mariadb -uroot <<SQL
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DBPASS';
ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$DBPASS';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
SQL

# ---------------------------------------------------------------- slurmdbd, then the cluster's records
if ! alive slurmdbd slurmdbd; then
    rm -f "$STATE/slurmdbd.pid"
    slurmdbd
    wait_for 15 "slurmdbd pid file" test -s "$STATE/slurmdbd.pid"
    log "slurmdbd started (pid $(<"$STATE/slurmdbd.pid"))"
fi
wait_for 30 "slurmdbd to answer" sacctmgr -n list cluster
sacctmgr -n list cluster format=cluster | grep -qw "$CLUSTER" || sacctmgr -i add cluster "$CLUSTER" >/dev/null
sacctmgr -n list account format=account | grep -qw repro || sacctmgr -i add account repro Cluster="$CLUSTER" Description=repro Organization=repro >/dev/null
for u in root ${SUDO_USER:-}; do
    sacctmgr -n list user format=user | grep -qw "$u" || sacctmgr -i add user "$u" Account=repro Cluster="$CLUSTER" >/dev/null
done

# ---------------------------------------------------------------- slurmctld and slurmd
if alive slurmctld slurmctld && ((changed)); then
    log "configuration changed: scontrol reconfigure"
    scontrol reconfigure
fi
if ! alive slurmctld slurmctld; then
    rm -f "$STATE/slurmctld.pid"
    slurmctld
    wait_for 15 "slurmctld pid file" test -s "$STATE/slurmctld.pid"
    log "slurmctld started (pid $(<"$STATE/slurmctld.pid"))"
fi
wait_for 30 "slurmctld to answer" scontrol ping
if ! alive slurmd slurmd; then
    rm -f "$STATE/slurmd.pid"
    slurmd
    wait_for 15 "slurmd pid file" test -s "$STATE/slurmd.pid"
    log "slurmd started (pid $(<"$STATE/slurmd.pid"))"
fi

node_idle() { [[ $(sinfo -h -N -n "$NODENAME" -o %T) == idle* ]]; }
# A node left DOWN/DRAIN by an earlier slurmd that was killed: return it to service.
if sinfo -h -N -n "$NODENAME" -o %T | grep -Eq 'down|drain'; then
    scontrol update NodeName="$NODENAME" State=RESUME || true
fi
wait_for "$TIMEOUT" "node $NODENAME to be idle" node_idle
log "node $NODENAME idle; up in $(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
