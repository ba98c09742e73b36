// A stand-in for the hub's enrollment endpoint over real HTTPS (the real hub joins in the field tests).
import { createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { keyIdOf } from '../../policy/index.ts';
import { enrollProofMessage, type EnrollRequest, type EnrollResponse } from '../../protocol/index.ts';
import type { TestPki } from './pki.ts';

export interface HubStub {
  url: string;
  requests: EnrollRequest[];
  /** Queue of answers; when empty, enrollment succeeds. */
  answers: { status: number; body: unknown }[];
  /** Challenges handed out (POST /v1/enroll/challenge); set `challenges` false to act as a hub before them (404). */
  issued: string[];
  challenges: boolean;
  signingKey: KeyObject;
  close(): Promise<void>;
}

export function enrollResponse(siteId: string, signingPublic: KeyObject, brokerUrl = 'mqtt://127.0.0.1:1883'): EnrollResponse {
  return {
    siteId,
    broker: { url: brokerUrl, username: siteId, password: 'broker-secret-pw' },
    signingKeys: [{ keyId: keyIdOf(signingPublic), publicKey: signingPublic.export({ format: 'der', type: 'spki' }).toString('base64') }],
    wireguard: {
      hubPublicKey: Buffer.alloc(32, 7).toString('base64'),
      hubEndpoint: '127.0.0.1:51820',
      addresses: ['10.99.0.2/32'],
      hubAddresses: ['10.99.0.1/32'],
      persistentKeepaliveS: 25,
      mtu: 1420,
    },
    heartbeatIntervalS: 5,
  };
}

export async function startHubStub(pki: TestPki, siteId = 'store-042'): Promise<HubStub> {
  const { privateKey } = generateKeyPairSync('ed25519');
  const stub = {
    requests: [] as EnrollRequest[],
    answers: [] as { status: number; body: unknown }[],
    signingKey: privateKey,
    issued: [] as string[],
    challenges: true,
  };
  const server: Server = createServer({ key: pki.keyPem, cert: pki.chainPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/enroll/challenge') {
        const challenge = `challenge-${stub.issued.length + 1}`;
        if (stub.challenges) stub.issued.push(challenge);
        res.writeHead(stub.challenges ? 200 : 404, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify(stub.challenges ? { challenge, expiresAt: new Date(Date.now() + 300_000).toISOString() } : { code: 'NOT_FOUND', message: 'no route' }),
        );
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as EnrollRequest;
      stub.requests.push(body);
      const answer = stub.answers.shift();
      const proofOk = verify(
        null,
        Buffer.from(enrollProofMessage(body)),
        createPublicKey({ key: Buffer.from(body.identityPublicKey, 'base64'), format: 'der', type: 'spki' }),
        Buffer.from(body.proof, 'base64'),
      );
      const [status, out] = answer
        ? [answer.status, answer.body]
        : proofOk
          ? [200, enrollResponse(siteId, createPublicKey(privateKey))]
          : [400, { code: 'ENROLL_BAD_PROOF', message: 'bad proof' }];
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(out));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  // The object the handler mutates (requests, issued) is the one tests see; `challenges` is read live.
  return Object.assign(stub, {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}
