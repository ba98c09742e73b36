// Errors of the datapath. Each carries a code, and a hint that tells the operator what to do.
import { WeftError } from '../base/index.ts';
export type DatapathErrorCode =
  | 'DATAPATH_CAPACITY' // a table set does not fit the configured map sizes; nothing was written
  | 'DATAPATH_INVALID_TABLES' // the tables are malformed (bad CIDR, unknown set); nothing was written
  | 'DATAPATH_KERNEL_FEATURE' // the kernel lacks something the datapath needs (BTF, bpffs, clsact, ...)
  | 'DATAPATH_BPFFS_PRIVATE_NS' // no bpffs, and mounting one here would vanish with this private mount namespace
  | 'DATAPATH_LOAD' // the verifier or libbpf refused the object
  | 'DATAPATH_ATTACH' // tc attach/detach failed
  | 'DATAPATH_BUILD' // the BPF object or the addon is missing or failed to build
  | 'DATAPATH_CLOSED'; // used after close()

// The code and the hint are fields, printed by base formatError, not folded into the message.
export class DatapathError extends WeftError<DatapathErrorCode> {
  override readonly name = 'DatapathError';
}
