// Declaring and removing site links (API and CLI): validated, stored with an audit entry, and then
// the mesh service republishes the peer bundles that changed.
import { HubError } from '../errors.ts';
import type { HubStore, LinkRecord, LinkSpec } from '../store/types.ts';
import { linkProblems } from './links.ts';

export class LinksService {
  constructor(
    private readonly store: HubStore,
    private readonly now: () => number,
    /** Called after every change (the mesh service's refresh). */
    private readonly changed: () => Promise<void>,
  ) {}

  async add(spec: LinkSpec, actor: string): Promise<LinkRecord> {
    const problems = linkProblems(spec);
    if (problems.length) throw new HubError('LINK_INVALID', `link is invalid: ${problems.join('; ')}`, { problems });
    if (spec.kind === 'pair')
      for (const id of [spec.a, spec.b]) if (!(await this.store.sites.get(id))) throw new HubError('SITE_NOT_FOUND', `site ${id} not found`);
    const now = this.now();
    const link = await this.store.tx(async (t) => {
      const l = await t.links.add(spec, actor, now);
      await t.audit.record({ at: now, actor, action: 'link.add', target: `link/${l.id}`, details: spec });
      return l;
    });
    await this.changed();
    return link;
  }

  list(): Promise<LinkRecord[]> {
    return this.store.links.list();
  }

  async remove(id: number, actor: string): Promise<void> {
    const now = this.now();
    const removed = await this.store.tx(async (t) => {
      const ok = await t.links.remove(id);
      if (ok) await t.audit.record({ at: now, actor, action: 'link.remove', target: `link/${id}`, details: {} });
      return ok;
    });
    if (!removed) throw new HubError('LINK_NOT_FOUND', `link ${id} not found`);
    await this.changed();
  }
}
