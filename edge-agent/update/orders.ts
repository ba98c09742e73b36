// Update orders from the hub (retained on site/<id>/update) and the reports back. The running agent
// does not install anything itself: it hands the order to `weft-agent update apply` in a child of its
// own binary (the known-good one), which verifies, downloads, switches and restarts the service. How
// the update ended (last-update.json: blessed, rolled back, refused) goes to the hub as an 'update'
// event through the outbox, so a site that rolled back while cut off still tells once it is back.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { UpdateOrderMessage, UpdateReport } from '../../protocol/index.ts';
import type { Slots } from './slots.ts';

export interface OrderDeps {
  slots: Slots;
  /** Flags that let the child find this agent (--data-dir, --status-port, --pin-root ...). */
  flags: () => string[];
  /** Queues an 'update' event for the hub. */
  report: (r: UpdateReport) => void;
  log: (m: string) => void;
}

export class UpdateOrders {
  private applying: number | null = null;

  constructor(private readonly d: OrderDeps) {}

  /** Sends the last update's ending to the hub once. */
  reportLast(): void {
    const r = this.d.slots.lastResult();
    if (!r || r.reported) return;
    this.d.report({ rolloutId: r.rolloutId, version: r.version, from: r.from, state: r.state, code: r.code, reason: r.reason });
    this.d.slots.setResult({ ...r, reported: true });
  }

  take(o: UpdateOrderMessage): void {
    const last = this.d.slots.lastResult();
    // The retained order comes again at every connect: once handled (or being handled), it is done.
    if (this.applying === o.rolloutId || last?.rolloutId === o.rolloutId || this.d.slots.pending()?.rolloutId === o.rolloutId) return;
    this.applying = o.rolloutId;
    const file = this.d.slots.path(`order-${o.rolloutId}.release.json`);
    writeFileSync(file, JSON.stringify(o.release), { mode: 0o600 });
    const script = process.argv[1];
    const pre = script && script !== process.execPath && /\.(m?js|ts)$/.test(script) ? [...process.execArgv, script] : [];
    const args = [
      ...pre,
      'update',
      'apply',
      '--release',
      file,
      '--url',
      o.url,
      '--deadline-s',
      String(o.deadlineS),
      '--rollout-id',
      String(o.rolloutId),
      ...this.d.flags(),
    ];
    this.d.log(`update order ${o.rolloutId}: applying`);
    const child = spawn(process.execPath, args, { detached: true, stdio: 'ignore' });
    // On success the child restarts the service (this process ends); on a refusal it records why and exits.
    child.on('exit', () => {
      this.applying = null;
      this.reportLast();
    });
    child.unref();
  }
}
