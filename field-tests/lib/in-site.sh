#!/bin/sh
# Runs a command as an appliance of one site sees the machine: inside the site's network
# namespace, in a private mount namespace with the site's own /run/wireguard (wireguard-go's UAPI
# socket dir is fixed, and every agent names its interface weft0), the host's bpffs on
# /sys/fs/bpf (`ip netns exec` mounts a fresh sysfs that hides it; pins must outlive the agent),
# and a /run/netns holding only this site's pod namespaces, named cni-<name> as containerd names
# them on a k3s node (the agent searches there for a bridged pod's veth; the host's /run/netns
# also holds every other site's and every other run's namespaces, which a node never sees).
# usage: unshare -m sh in-site.sh <netns> <empty dir> <site wireguard run dir> <empty dir> <pod netns,...> <argv...>
set -eu
ns=$1 bpf=$2 wg=$3 netns=$4 pods=$5
shift 5
if [ -z "${WFT_IN_NETNS:-}" ]; then
  mount --bind /sys/fs/bpf "$bpf"
  mount -t tmpfs -o mode=0755 wft-netns "$netns"
  for p in $(echo "$pods" | tr ',' ' '); do
    : > "$netns/cni-$p"
    mount --bind "/run/netns/$p" "$netns/cni-$p"
  done
  WFT_IN_NETNS=1 exec ip netns exec "$ns" sh "$0" "$ns" "$bpf" "$wg" "$netns" "$pods" "$@"
fi
unset WFT_IN_NETNS
mount --bind "$bpf" /sys/fs/bpf
mkdir -p /run/wireguard
mount --bind "$wg" /run/wireguard
mount --rbind "$netns" /run/netns
exec "$@"
