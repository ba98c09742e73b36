/* A program the verifier refuses (it reads the packet without checking its length), for the test
 * that a load failure carries the verifier log. Not built by datapath/build.ts: datapath/addon.kernel.test.ts compiles it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tc")
int weft_rejected(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	return *(__u32 *)data;
}

char LICENSE[] SEC("license") = "GPL";
