/* A stand-in for the previous release of the datapath, for datapath/upgrade.kernel.test.ts: the same programs with
 * one more pinned map, so its layout fingerprint differs from the current build's. Both programs
 * sit in this one object. Not built by datapath/build.ts: the test compiles it. */
#include "../lib/judge.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weft_retired SEC(".maps");

SEC("tc")
int weft_pod_egress(struct __sk_buff *skb)
{
	return judge(skb, WEFT_DIR_EGRESS);
}

SEC("tc")
int weft_pod_ingress(struct __sk_buff *skb)
{
	return judge(skb, WEFT_DIR_INGRESS);
}

char LICENSE[] SEC("license") = "GPL";
