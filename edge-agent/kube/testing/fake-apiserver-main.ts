// Standalone fake API server, one per site in the multi-site field tests:
//   node bin/run.mjs edge-agent/kube/testing/fake-apiserver-main.ts [--port N] [--host H] [--token T] [--objects file.yaml]
//        [--kubeconfig out.yaml] [--no-crds] [--bookmark-interval-ms N] [--json]
// Prints its URL (or {"url","kubeconfig","token"} with --json) once listening; SIGTERM/SIGINT stop it.
// Objects can then be changed with plain HTTP POST/PUT/DELETE on the usual API paths.
import { errorMessage } from '../../../base/index.ts';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { FakeApiServer, type KubeObject } from './fake-apiserver.ts';

function usage(msg: string): never {
  process.stderr.write(
    `fake-apiserver: ${msg}\nusage: fake-apiserver-main.ts [--port N] [--host H] [--token T] [--objects file.yaml] [--kubeconfig path] [--no-crds] [--bookmark-interval-ms N] [--json]\n`,
  );
  process.exit(2);
}

/** Documents of a YAML file; `kind: List` documents are flattened. */
export function readObjects(file: string): KubeObject[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return usage(`--objects ${file}: ${errorMessage(err)}`);
  }
  const out: KubeObject[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    if (doc.errors.length > 0) usage(`${file}#${i + 1}: ${doc.errors[0].message}`);
    const o = doc.toJS() as (KubeObject & { items?: KubeObject[] }) | null;
    if (o === null) return;
    if (o.kind === 'List') out.push(...(o.items ?? []));
    else out.push(o);
  });
  return out;
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        port: { type: 'string', default: '0' },
        host: { type: 'string', default: '127.0.0.1' },
        token: { type: 'string' },
        objects: { type: 'string' },
        kubeconfig: { type: 'string' },
        'no-crds': { type: 'boolean', default: false },
        'bookmark-interval-ms': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    }).values;
  } catch (err) {
    return usage(errorMessage(err));
  }
  const port = Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--port ${args.port} is not a port number`);
  const token = args.token ?? randomBytes(18).toString('base64url');
  let server: FakeApiServer;
  try {
    server = await FakeApiServer.start({
      host: args.host,
      port,
      token,
      crds: !args['no-crds'],
      bookmarkIntervalMs: args['bookmark-interval-ms'] ? Number(args['bookmark-interval-ms']) : undefined,
      objects: args.objects ? readObjects(args.objects) : [],
    });
  } catch (err) {
    process.stderr.write(`fake-apiserver: ${errorMessage(err)}\n`);
    process.exit(1);
  }
  if (args.kubeconfig) server.writeKubeconfig(args.kubeconfig);
  process.stdout.write(args.json ? `${JSON.stringify({ url: server.url, kubeconfig: args.kubeconfig ?? null, token })}\n` : `${server.url}\n`);
  const shutdown = () => void server.stop().then(() => process.exit(0));
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

await main();
