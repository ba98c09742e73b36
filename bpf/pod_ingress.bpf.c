/* tc egress on a pod's host-side veth: packets to the pod (the pod's ingress). */
#include "lib/judge.h"

SEC("tc")
int weft_pod_ingress(struct __sk_buff *skb)
{
	return judge(skb, WEFT_DIR_INGRESS);
}

char LICENSE[] SEC("license") = "GPL";
