#!/usr/bin/env bash
# Start or stop a one-node SLURM cluster on localhost (root, Debian slurm-wlm + munge), following
# ../shared/cluster/README.md: config at /etc/slurm/slurm.conf, daemons in the foreground in the
# background, state under /tmp/ctresist-slurm.   usage: slurm_localhost.sh start|stop
set -euo pipefail
base=/tmp/ctresist-slurm
case "${1:-}" in
start)
  command -v slurmctld >/dev/null || { apt-get update -qq && apt-get install -y -qq slurm-wlm munge >/dev/null; }
  mkdir -p $base/munge/run $base/munge/log $base/slurm/{state,spool,run,log} /etc/slurm
  host=$(hostname)
  sed "s/^SlurmctldHost=.*/SlurmctldHost=${host}(127.0.0.1)/; s/^NodeName=vm /NodeName=${host} /; s/Nodes=vm /Nodes=${host} /" \
    "$(dirname "$0")/slurm.conf" > $base/slurm.conf
  ln -sf $base/slurm.conf /etc/slurm/slurm.conf
  [ -f /etc/munge/munge.key ] || { mkdir -p /etc/munge; dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; }
  chown -R munge:munge $base/munge /etc/munge 2>/dev/null || true
  chmod 400 /etc/munge/munge.key
  runuser -u munge -- /usr/sbin/munged --foreground --socket=$base/munge/run/munge.socket.2 \
    --pid-file=$base/munge/run/munged.pid --log-file=$base/munge/log/munged.log \
    --seed-file=$base/munge/run/munged.seed --force > /dev/null 2>&1 &
  echo $! > $base/munged.pid
  sleep 1
  slurmctld -D -i > $base/slurm/log/slurmctld.out 2>&1 &
  echo $! > $base/slurmctld.pid
  sleep 1
  slurmd -D > $base/slurm/log/slurmd.out 2>&1 &
  echo $! > $base/slurmd.pid
  for _ in $(seq 1 60); do
    [ "$(sinfo -h -o %T 2>/dev/null | head -1)" = idle ] && exit 0
    sleep 0.5
  done
  echo "slurm did not become idle" >&2; exit 1 ;;
stop)
  for d in slurmd slurmctld munged; do
    [ -f $base/$d.pid ] && kill "$(cat $base/$d.pid)" 2>/dev/null || true
  done ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
