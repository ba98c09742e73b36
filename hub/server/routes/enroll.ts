// POST /v1/enroll: public (the one-time token or the known device key is the credential).
// POST /v1/enroll/challenge: public, a one-time nonce the device signs into its proof (no replays).
import type { FastifyInstance } from 'fastify';
import type { EnrollRequest } from '../../../protocol/index.ts';
import { enroll, issueChallenge } from '../../enroll/enroll.ts';
import { anyObject, errors } from '../schemas.ts';
import type { HubServices } from '../services.ts';

const b64 = { type: 'string', minLength: 1, maxLength: 512, pattern: '^[A-Za-z0-9+/=]+$' } as const;

export function enrollRoutes(app: FastifyInstance, s: HubServices): void {
  app.post<{ Body: EnrollRequest }>(
    '/v1/enroll',
    {
      config: { role: 'public' },
      schema: {
        summary: 'Enroll a device as a site (protocol/enroll.ts)',
        tags: ['enroll'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['siteName', 'identityPublicKey', 'wireguardPublicKey', 'agentVersion', 'proof'],
          properties: {
            token: { type: 'string', minLength: 1, maxLength: 256 },
            siteName: { type: 'string', minLength: 1, maxLength: 63 },
            nodeName: { type: 'string', minLength: 1, maxLength: 63 },
            identityPublicKey: b64,
            wireguardPublicKey: b64,
            agentVersion: { type: 'string', maxLength: 64 },
            challenge: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' },
            proof: b64,
          },
        },
        response: { 200: anyObject, ...errors },
      },
    },
    async (req) => enroll(req.body, s.enroll),
  );
  app.post(
    '/v1/enroll/challenge',
    {
      config: { role: 'public' },
      schema: {
        summary: 'A one-time challenge to sign into the enrollment proof (protocol/enroll.ts)',
        tags: ['enroll'],
        response: { 200: anyObject, ...errors },
      },
    },
    async () => issueChallenge(s.enroll),
  );
}
