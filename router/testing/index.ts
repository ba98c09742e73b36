// What the router offers other parts' tests and the benchmarks: a sites view in memory, a world of
// sites with a geo database to match, a MaxMind database writer, DNS queries by hand and with dig.
export { dig, hasDig, parseDig, type DigRecord, type DigResult } from './dig.ts';
export { CITIES, GEO_NETS, worldSites, writeWorldGeoDb, type GeoDbFile } from './fixture.ts';
export { MemorySitesView, site } from './memory-sites-view.ts';
export { cityRecord, writeMmdb, type MmdbNetwork, type MmdbValue } from './mmdb-writer.ts';
export { answerAddresses, encodeQuery, RCODE_NAMES } from './query.ts';
