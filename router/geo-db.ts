// Opens the MaxMind-format geo database the locator reads; a missing or bad file is a RouterConfigError.
import maxmind, { type CityResponse, type Reader } from 'maxmind';
import { errorMessage } from '../base/index.ts';
import { RouterConfigError } from './config.ts';

export async function openGeoDb(path: string): Promise<Reader<CityResponse>> {
  try {
    return await maxmind.open<CityResponse>(path, { watchForUpdates: false });
  } catch (err) {
    throw new RouterConfigError(
      'ROUTER_GEO_DB',
      'geoDbPath',
      `cannot open ${path}: ${errorMessage(err)}`,
      'a MaxMind-format City database (GeoLite2-City.mmdb or compatible)',
    );
  }
}
