// The protocols a port rule can name, and their IANA numbers in rule keys.
import type { Protocol } from '../inventory.ts';
import { PROTO_SCTP, PROTO_TCP, PROTO_UDP } from '../tables.ts';

export const PROTO_NUMBERS: Record<Protocol, number> = { TCP: PROTO_TCP, UDP: PROTO_UDP, SCTP: PROTO_SCTP };
/** In rule-key order of the compiler's output. */
export const PROTOS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];
