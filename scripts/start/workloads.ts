// What runs at each demo site, on field-tests/lib's pods (namespace shop; pod1 app=web, pod2
// app=db, pod3 app=app3): a web server users are sent to, a database, and a third pod whose
// connections to the database the demo policy denies. And where the site is on the map.

export const PODS_PER_SITE = 3;
export const WEB_PORT = 8080;
export const DB_PORT = 5432;

const CITIES: readonly [string, number, number][] = [
  ['paris', 48.86, 2.35],
  ['lyon', 45.76, 4.84],
  ['berlin', 52.52, 13.4],
  ['madrid', 40.42, -3.7],
  ['milan', 45.46, 9.19],
  ['amsterdam', 52.37, 4.9],
];

/** Site i (1-based): a city, then points further east for large demos. The demo's users sit in Paris. */
export function location(i: number): { city: string; lat: number; lon: number } {
  const c = CITIES[i - 1];
  return c ? { city: c[0], lat: c[1], lon: c[2] } : { city: `east-${i}`, lat: 50, lon: 15 + i };
}

export const USERS_AT = { lat: 48.85, lon: 2.29 };
