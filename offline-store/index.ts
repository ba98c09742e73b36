// offline-store: the agent's SQLite store (better-sqlite3, WAL, synchronous=FULL). It imports no other folder.
//
//   openStore(path, opts?) -> AgentStore
//     Creates the directory (0700) and file (0600), runs the integrity check, migrates with user_version.
//     A corrupt file is renamed to `<path>.corrupt-<timestamp>`, a fresh store is created, and this is
//     reported in store.opened ({ kind: 'recovered', movedTo, reason }) and as a 'recovered-corrupt' event;
//     the agent keeps enforcing from the pinned kernel maps meanwhile. opts: clock, readonly, integrityCheck,
//     outbox caps, bundleHistory, onEvent, maxPageCount (tests).
//
//   store.bundles   recordReceived(bytes, generation) -> BundleRecord      status 'received'
//                   setLastKnownGood(id)        own committed transaction, BEFORE applying
//                   markApplied(id) | markRejected(id, code, reason)       after; a rejected LKG falls back
//                   lastKnownGood() | lastApplied() | lastRejected() | get(id) | findBySha256(hex) | list(n)
//   store.identity  get() | getOrCreate() | set({ ed25519PrivateKey, x25519PrivateKey }) -> DeviceIdentity
//                   enrollment() | saveEnrollment(e) | updateSigningKeys(keys) | clearEnrollment()
//                   (DeviceIdentity and Enrollment redact private keys / broker password in JSON and inspect)
//   store.config    get(key) | set(key, json) | delete(key) | all()
//   store.outbox    append(topic, payload, 'high' | 'low') -> { seq, evicted }
//                   peek(batch) in seq order | ack(upToSeq) | depth() | bytes() | lost() | stats()
//   store.fqdn      replaceAll(entries) | unexpired(now?) | count()       learned FQDN addresses (wall-clock expiry)
//   store.checkIntegrity(mode?) | store.close() | store.writable | store.opened | store.schemaVersion
//
// Every failure is a StoreError with a code: STORE_DISK_FULL and STORE_READ_ONLY on writes leave the store
// readable; STORE_OUTBOX_FULL when only high-priority records fill the outbox (see outbox.ts).
export { openStore } from './open.ts';
export { StoreError, type StoreErrorCode } from './errors.ts';
export { DEFAULT_OUTBOX_LIMITS } from './outbox.ts';
export { LATEST_VERSION } from './schema.ts';
export type * from './types.ts';
