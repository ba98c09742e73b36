// Structured logs (pino) to stderr, so stdout stays clean for `--json` output. Secrets never reach a
// log line: the paths below are redacted wherever they appear in a logged object.
import pino, { type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'token',
  '*.token',
  'password',
  '*.password',
  '*.*.password',
  'privateKey',
  '*.privateKey',
  'identityPrivateKey',
  '*.identityPrivateKey',
  'wireguardPrivateKey',
  '*.wireguardPrivateKey',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  'proof',
  '*.proof',
];

export function createLogger(opts: { level?: string; destination?: pino.DestinationStream | number } = {}): Logger {
  const dest = typeof opts.destination === 'object' ? opts.destination : pino.destination({ fd: opts.destination ?? 2, sync: true });
  return pino(
    {
      name: 'weft-agent',
      level: opts.level ?? process.env.WEFT_LOG_LEVEL ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    dest,
  );
}
