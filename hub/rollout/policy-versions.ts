// Pushing policy: the YAML ops send is validated by the policy core (every error, with its file,
// document and path), then stored as a new version with author and message. Deprecated v1alpha1
// AdminNetworkPolicy / BaselineAdminNetworkPolicy objects are stored as the ClusterNetworkPolicy
// they translate to (weft policy convert's translation), so history, diffs and bundles speak the
// new kind; the push answers with a warning for each. The YAML is kept as pushed.
import { convertAdminPolicy, isDeprecatedPolicy, loadPolicies, parseManifests, SelectorError, type PolicyError } from '../../policy/index.ts';
import { HubError } from '../errors.ts';
import type { HubStore, PolicyVersion } from '../store/types.ts';
import { diffLines, diffObjects, type ObjectDiff } from './diff.ts';
import { parseSelector } from './selector.ts';
import { SITES_ANNOTATION, siteAnnotation } from './site-policies.ts';

export interface PolicyFile {
  name: string;
  content: string;
}

/** Files are joined into one YAML stream per version, each introduced by a comment naming it. */
function joinFiles(files: PolicyFile[]): string {
  return files.map((f) => `# file: ${f.name}\n${f.content.replace(/\n*$/, '\n')}`).join('---\n');
}

function invalid(errors: ReturnType<PolicyError['toJSON']>[]): HubError {
  return new HubError('POLICY_INVALID', `${errors.length} error(s) in the pushed policy`, { errors });
}

type PolicyErrorJson = ReturnType<PolicyError['toJSON']>;

function validateFiles(files: PolicyFile[]): { objects: unknown[]; warnings: PolicyErrorJson[] } {
  const parsed = parseManifests(files.map((f) => ({ file: f.name, text: f.content })));
  const loaded = loadPolicies(parsed.objects);
  const errors = [...parsed.errors, ...loaded.errors].map((e) => e.toJSON());
  // The hub's own annotation is checked here: the policy core does not know it.
  for (const m of parsed.objects) {
    const sel = siteAnnotation(m.object);
    if (sel === undefined) continue;
    try {
      parseSelector(sel);
    } catch (e) {
      if (!(e instanceof SelectorError)) throw e;
      errors.push({
        code: 'POLICY_BAD_VALUE',
        file: m.file,
        doc: m.doc,
        path: `${m.path ? `${m.path}.` : ''}metadata.annotations.${SITES_ANNOTATION}`,
        message: e.message,
        hint: 'write key=value pairs separated by commas, e.g. region=eu,kind=store',
      });
    }
  }
  if (errors.length) throw invalid(errors);
  if (!parsed.objects.length) throw new HubError('POLICY_INVALID', 'the push holds no Kubernetes objects', { errors: [] });
  const warnings = loaded.warnings.map((w) => w.toJSON());
  const objects = parsed.objects.map((m) => {
    if (!isDeprecatedPolicy(m.object)) return m.object;
    const c = convertAdminPolicy(m.object, { file: m.file, doc: m.doc, path: m.path });
    // Not exactly expressible in v1alpha2 (its 25-item limits): kept as v1alpha1, which every agent reads.
    warnings.push(...c.errors.map((e) => e.toJSON()));
    return c.errors.length === 0 ? c.object : m.object;
  });
  return { objects, warnings };
}

export class PolicyVersions {
  constructor(
    private readonly store: HubStore,
    private readonly now: () => number,
  ) {}

  async push(files: PolicyFile[], message: string, author: string): Promise<PolicyVersion & { warnings: PolicyErrorJson[] }> {
    const { objects, warnings } = validateFiles(files);
    const t = this.now();
    return this.store.tx(async (tx) => {
      const version = await tx.policies.add({ yaml: joinFiles(files), objects, author, message, createdAt: t });
      await tx.audit.record({
        at: t,
        actor: author,
        action: 'policy.push',
        target: `policy/${version}`,
        details: { message, files: files.map((f) => f.name) },
      });
      return { ...(await tx.policies.get(version))!, warnings };
    });
  }

  async require(version: number): Promise<PolicyVersion> {
    const v = await this.store.policies.get(version);
    if (!v) throw new HubError('POLICY_VERSION_NOT_FOUND', `no policy version ${version}`);
    return v;
  }

  /** Diff from `from` to `to` (version 0 is the empty set). */
  async diff(from: number, to: number): Promise<{ from: number; to: number; objects: ObjectDiff; lines: string[] }> {
    const a = from === 0 ? { objects: [], yaml: '' } : await this.require(from);
    const b = to === 0 ? { objects: [], yaml: '' } : await this.require(to);
    return { from, to, objects: diffObjects(a.objects, b.objects), lines: diffLines(a.yaml, b.yaml) };
  }
}
