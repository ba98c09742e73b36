// Everything the HTTP routes act on, built once by main.ts (or by a test) and handed to the app.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { SitesService } from '../sites/sites-service.ts';
import type { EnrollDeps } from '../enroll/enroll.ts';
import type { OverlayPlan } from '../../tunnel/index.ts';
import type { PolicyVersions } from '../rollout/policy-versions.ts';
import type { RolloutEngine } from '../rollout/engine.ts';
import type { UpdateService } from '../rollout/updates.ts';
import type { BundleService } from '../rollout/bundles.ts';
import type { SigningKeys } from '../pki/signing-keys.ts';
import type { HealthModel } from '../../router/index.ts';
import type { HubStore } from '../store/types.ts';
import type { LinksService } from '../mesh/links-service.ts';
import type { LinkPathView } from '../mesh/mesh-service.ts';

export interface HubServices {
  store: HubStore;
  sites: SitesService;
  enroll: EnrollDeps;
  overlay: OverlayPlan;
  policies: PolicyVersions;
  rollouts: RolloutEngine;
  /** Releases and agent update rollouts. */
  updates: UpdateService;
  bundles: BundleService;
  keys: SigningKeys;
  registry: Registry;
  log: Logger;
  now: () => number;
  /** What sites and the CLI pin: the hub CA. */
  ca: { fingerprint: string; certPem: string };
  /** The hub's HTTPS URL as sites see it (written into provisioning files). */
  publicUrl: string;
  /** Live site health, shown with each site in /v1/sites (absent: the API alone, without the monitor). */
  health?: HealthModel;
  /** Site links and their paths (absent: no mesh service, e.g. tests of the API alone). */
  mesh?: {
    links: LinksService;
    view(): { a: string; b: string; links: number[]; paths: LinkPathView[] }[];
  };
  /** How long a down node of a multi-node site holds rollout stages (shown with its nodes); default DEFAULT_NODE_DOWN_GRACE_MS. */
  nodeDownGraceMs?: number;
}
