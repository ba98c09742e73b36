#!/bin/sh
# Runs a command as an appliance of one site sees the machine: inside the site's network
# namespace, in a private mount namespace with the site's own /run/wireguard (wireguard-go's UAPI
# socket dir is fixed, and every agent names its interface weft0) and the host's bpffs on
# /sys/fs/bpf (`ip netns exec` mounts a fresh sysfs that hides it; pins must outlive the agent).
# usage: unshare -m sh in-site.sh <netns> <empty dir> <site wireguard run dir> <argv...>
set -eu
ns=$1 bpf=$2 wg=$3
shift 3
if [ -z "${WFT_IN_NETNS:-}" ]; then
  mount --bind /sys/fs/bpf "$bpf"
  WFT_IN_NETNS=1 exec ip netns exec "$ns" sh "$0" "$ns" "$bpf" "$wg" "$@"
fi
unset WFT_IN_NETNS
mount --bind "$bpf" /sys/fs/bpf
mkdir -p /run/wireguard
mount --bind "$wg" /run/wireguard
exec "$@"
