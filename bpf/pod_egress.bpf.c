/* tc ingress on a pod's host-side veth: packets leaving the pod (the pod's egress). */
#include "lib/judge.h"

SEC("tc")
int weft_pod_egress(struct __sk_buff *skb)
{
	return judge(skb, WEFT_DIR_EGRESS);
}

char LICENSE[] SEC("license") = "GPL";
