// Errors of the datapath. Each carries a code, and a hint that tells the operator what to do.
export type DatapathErrorCode =
  | 'DATAPATH_CAPACITY' // a table set does not fit the configured map sizes; nothing was written
  | 'DATAPATH_INVALID_TABLES' // the tables are malformed (bad CIDR, unknown set); nothing was written
  | 'DATAPATH_KERNEL_FEATURE' // the kernel lacks something the datapath needs (BTF, bpffs, clsact, ...)
  | 'DATAPATH_BPFFS_PRIVATE_NS' // no bpffs, and mounting one here would vanish with this private mount namespace
  | 'DATAPATH_LOAD' // the verifier or libbpf refused the object
  | 'DATAPATH_ATTACH' // tc attach/detach failed
  | 'DATAPATH_BUILD' // the BPF object or the addon is missing or failed to build
  | 'DATAPATH_CLOSED'; // used after close()

export class DatapathError extends Error {
  constructor(
    readonly code: DatapathErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(hint ? `${message} (${code})\nhint: ${hint}` : `${message} (${code})`);
    this.name = 'DatapathError';
  }
}
