// Coded policy errors with a place: file, document index (1-based), JSON path inside the document.
// A user never sees a stack trace for bad input; every validation problem is one of these.
import { WeftError } from '../base/pure.ts';

export type PolicyErrorCode =
  | 'POLICY_YAML'
  | 'POLICY_NOT_OBJECT'
  | 'POLICY_UNKNOWN_KIND'
  | 'POLICY_IGNORED_KIND'
  | 'POLICY_UNKNOWN_API_VERSION'
  | 'POLICY_MISSING_FIELD'
  | 'POLICY_BAD_TYPE'
  | 'POLICY_BAD_VALUE'
  | 'POLICY_BAD_NAME'
  | 'POLICY_BAD_LABEL'
  | 'POLICY_BAD_SELECTOR'
  | 'POLICY_BAD_CIDR'
  | 'POLICY_BAD_PORT'
  | 'POLICY_BAD_PROTOCOL'
  | 'POLICY_ENDPORT_BEFORE_PORT'
  | 'POLICY_ENDPORT_NAMED'
  | 'POLICY_EMPTY_PEER'
  | 'POLICY_PEER_CONFLICT'
  | 'POLICY_BAD_PRIORITY'
  | 'POLICY_BAD_ACTION'
  | 'POLICY_BAD_POLICY_TYPE'
  | 'POLICY_BAD_MODE'
  | 'POLICY_DUPLICATE'
  | 'POLICY_BANP_NAME'
  | 'POLICY_UNKNOWN_FIELD'
  /** A v1alpha1 AdminNetworkPolicy or BaselineAdminNetworkPolicy: read as the ClusterNetworkPolicy it translates to (warning). */
  | 'POLICY_DEPRECATED_KIND'
  /** A ClusterNetworkPolicy peer with no field Weft understands: its rule fails closed (warning). */
  | 'POLICY_UNKNOWN_PEER'
  /** A domainNames peer in a rule that is not an Accept: upstream supports them in Accept rules only (warning). */
  | 'POLICY_DOMAIN_NAMES_ACTION'
  /** An ANP/BANP that has no exact ClusterNetworkPolicy translation (weft policy convert). */
  | 'POLICY_CONVERT';

export interface Where {
  file: string;
  /** 1-based index of the YAML document in the file. */
  doc: number;
  /** JSON path inside the document, e.g. `spec.ingress[0].ports[1].endPort`; '' for the document itself. */
  path: string;
}

/** `policies/db.yaml#2 spec.ingress[0].ports[1].endPort`: what formatError prints before the message. */
export function placeOf(where: Where): string {
  return `${where.file}#${where.doc}${where.path ? ` ${where.path}` : ''}`;
}

/**
 * Printed by base formatError as `policies/db.yaml#2 spec.ingress[0].ports[1].endPort: endPort 80 < port 443 (POLICY_ENDPORT_BEFORE_PORT)`
 * + hint line. `rule`: the CRD validation rule that failed, as the CRD writes it (`maxItems: 25`);
 * the message ends with it, so every printer (CLI, hub API, agent log) names it.
 */
export class PolicyError extends WeftError<PolicyErrorCode> {
  override readonly name = 'PolicyError';
  readonly file: string;
  readonly doc: number;
  readonly path: string;
  constructor(
    code: PolicyErrorCode,
    where: Where,
    message: string,
    hint?: string,
    readonly rule?: string,
  ) {
    super(code, rule === undefined ? message : `${message} [CRD rule: ${rule}]`, hint, { where: placeOf(where) });
    this.file = where.file;
    this.doc = where.doc;
    this.path = where.path;
  }

  toJSON(): { code: PolicyErrorCode; file: string; doc: number; path: string; message: string; hint?: string; rule?: string } {
    return {
      code: this.code,
      file: this.file,
      doc: this.doc,
      path: this.path,
      message: this.message,
      hint: this.hint,
      ...(this.rule !== undefined && { rule: this.rule }),
    };
  }
}

/** Appends a child to a JSON path: `spec` + `ingress` -> `spec.ingress`, + 0 -> `spec.ingress[0]`. */
export function subPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}
