/**
 * Checks the bodies of the master → allocator messages (`protocol.ts`) and turns them into
 * what `HierarchicalAllocation` takes: ids as strings, resources parsed. Each parser throws an
 * `InvalidMessageError` naming the field and the value; the allocator logs it and ignores the
 * message. Hand-written rather than a schema library because `RecoverResources` arrives once
 * per declined offer, on the allocator's hot path.
 */

import { InvalidMessageError, MesosError } from '../../src/errors.ts';
import { Resources } from '../../src/mesos/resources.ts';

export interface AddFrameworkCommand {
  readonly frameworkId: string;
  readonly roles: string[];
  readonly suppressedRoles: string[];
  readonly active: boolean;
  readonly used: { agentId: string; role: string | undefined; resources: Resources }[];
  /** Absent: not known. */
  readonly capabilities: string[] | undefined;
}

export interface UpdateFrameworkCommand {
  readonly frameworkId: string;
  readonly roles: string[];
  readonly suppressedRoles: string[];
  /** Absent: unchanged. */
  readonly capabilities: string[] | undefined;
}

export interface AddAgentCommand {
  readonly agentId: string;
  readonly total: Resources;
  readonly used: { frameworkId: string; role: string | undefined; resources: Resources }[];
}

export interface UpdateAgentCommand {
  readonly agentId: string;
  readonly total: Resources;
}

export interface RecoverCommand {
  readonly frameworkId: string;
  readonly agentId: string;
  readonly resources: Resources;
  /** Absent: no filter. */
  readonly refuseSeconds: number | undefined;
}

export interface ConversionCommand {
  readonly consumed: Resources;
  readonly converted: Resources;
  /** The role the converted resources go to (`UpdateAllocation`); absent: the one that held them. */
  readonly role: string | undefined;
}

export interface UpdateAllocationCommand {
  readonly frameworkId: string;
  readonly agentId: string;
  readonly conversions: ConversionCommand[];
}

export interface UpdateAvailableCommand {
  readonly requestId: string;
  readonly agentId: string;
  readonly conversions: ConversionCommand[];
}

export interface RolesCommand {
  readonly frameworkId: string;
  /** Absent: all of the framework's roles. */
  readonly roles: string[] | undefined;
}

export interface SetQuotaCommand {
  readonly role: string;
  readonly guarantee: Resources;
  readonly limits: Record<string, number>;
}

type Fields = Record<string, unknown>;

function fail(what: string, path: string, message: string, value: unknown): never {
  throw new InvalidMessageError(what, [{ path, message, value }]);
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return String(value);
  }
}

function object(what: string, body: unknown, path = ''): Fields {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    fail(what, path, `${path === '' ? 'the body' : `'${path}'`} must be an object, got ${show(body)}`, body);
  }
  return body as Fields;
}

function id(what: string, fields: Fields, key: string, path = key): string {
  const value = fields[key];
  if (typeof value !== 'string' || value === '') fail(what, path, `'${path}' must be a non-empty string, got ${show(value)}`, value);
  return value;
}

function optionalString(what: string, fields: Fields, key: string, path = key): string | undefined {
  const value = fields[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') fail(what, path, `'${path}' must be a string, got ${show(value)}`, value);
  return value;
}

function strings(what: string, fields: Fields, key: string, required: boolean): string[] | undefined {
  const value = fields[key];
  if (value === undefined && !required) return undefined;
  if (!Array.isArray(value)) fail(what, key, `'${key}' must be an array of strings, got ${show(value)}`, value);
  for (const [i, item] of value.entries()) {
    if (typeof item !== 'string') fail(what, `${key}[${i}]`, `'${key}[${i}]' must be a string, got ${show(item)}`, item);
  }
  return value as string[];
}

function resources(what: string, fields: Fields, key: string, path = key): Resources {
  const value = fields[key];
  if (!Array.isArray(value)) fail(what, path, `'${path}' must be an array of resources, got ${show(value)}`, value);
  try {
    return Resources.fromJSON(value);
  } catch (error) {
    if (!(error instanceof MesosError)) throw error;
    fail(what, path, `'${path}': ${error.message}`, value);
  }
}

function list(what: string, fields: Fields, key: string): Fields[] {
  const value = fields[key];
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(what, key, `'${key}' must be an array, got ${show(value)}`, value);
  return value.map((item, i) => object(what, item, `${key}[${i}]`));
}

export function parseAddFramework(what: string, body: unknown): AddFrameworkCommand {
  const f = object(what, body);
  const active = f['active'] ?? true;
  if (typeof active !== 'boolean') fail(what, 'active', `'active' must be a boolean, got ${show(active)}`, active);
  return {
    frameworkId: id(what, f, 'framework_id'),
    roles: strings(what, f, 'roles', true)!,
    suppressedRoles: strings(what, f, 'suppressed_roles', false) ?? [],
    active,
    used: list(what, f, 'used').map((u, i) => ({
      agentId: id(what, u, 'agent_id', `used[${i}].agent_id`),
      role: optionalString(what, u, 'role', `used[${i}].role`),
      resources: resources(what, u, 'resources', `used[${i}].resources`),
    })),
    capabilities: strings(what, f, 'capabilities', false),
  };
}

export function parseUpdateFramework(what: string, body: unknown): UpdateFrameworkCommand {
  const f = object(what, body);
  return {
    frameworkId: id(what, f, 'framework_id'),
    roles: strings(what, f, 'roles', true)!,
    suppressedRoles: strings(what, f, 'suppressed_roles', false) ?? [],
    capabilities: strings(what, f, 'capabilities', false),
  };
}

export function parseFrameworkRef(what: string, body: unknown): string {
  return id(what, object(what, body), 'framework_id');
}

export function parseAddAgent(what: string, body: unknown): AddAgentCommand {
  const f = object(what, body);
  return {
    agentId: id(what, f, 'agent_id'),
    total: resources(what, f, 'total'),
    used: list(what, f, 'used').map((u, i) => ({
      frameworkId: id(what, u, 'framework_id', `used[${i}].framework_id`),
      role: optionalString(what, u, 'role', `used[${i}].role`),
      resources: resources(what, u, 'resources', `used[${i}].resources`),
    })),
  };
}

export function parseUpdateAgent(what: string, body: unknown): UpdateAgentCommand {
  const f = object(what, body);
  return { agentId: id(what, f, 'agent_id'), total: resources(what, f, 'total') };
}

export function parseAgentRef(what: string, body: unknown): string {
  return id(what, object(what, body), 'agent_id');
}

export function parseRecover(what: string, body: unknown): RecoverCommand {
  const f = object(what, body);
  const refuse = f['refuse_seconds'];
  if (refuse !== undefined && (typeof refuse !== 'number' || Number.isNaN(refuse))) {
    fail(what, 'refuse_seconds', `'refuse_seconds' must be a number, got ${show(refuse)}`, refuse);
  }
  return {
    frameworkId: id(what, f, 'framework_id'),
    agentId: id(what, f, 'agent_id'),
    resources: resources(what, f, 'resources'),
    refuseSeconds: refuse as number | undefined,
  };
}

function conversions(what: string, fields: Fields): ConversionCommand[] {
  const value = fields['conversions'];
  if (!Array.isArray(value)) fail(what, 'conversions', `'conversions' must be an array, got ${show(value)}`, value);
  return list(what, fields, 'conversions').map((c, i) => ({
    consumed: resources(what, c, 'consumed', `conversions[${i}].consumed`),
    converted: resources(what, c, 'converted', `conversions[${i}].converted`),
    role: optionalString(what, c, 'role', `conversions[${i}].role`),
  }));
}

export function parseUpdateAllocation(what: string, body: unknown): UpdateAllocationCommand {
  const f = object(what, body);
  return { frameworkId: id(what, f, 'framework_id'), agentId: id(what, f, 'agent_id'), conversions: conversions(what, f) };
}

export function parseUpdateAvailable(what: string, body: unknown): UpdateAvailableCommand {
  const f = object(what, body);
  return { requestId: id(what, f, 'request_id'), agentId: id(what, f, 'agent_id'), conversions: conversions(what, f) };
}

export function parseRolesRef(what: string, body: unknown): RolesCommand {
  const f = object(what, body);
  const roles = strings(what, f, 'roles', false);
  return { frameworkId: id(what, f, 'framework_id'), roles: roles === undefined || roles.length === 0 ? undefined : roles };
}

export function parseUpdateWeights(what: string, body: unknown): [string, number][] {
  const f = object(what, body);
  const weights = f['weights'];
  if (!Array.isArray(weights)) fail(what, 'weights', `'weights' must be an array, got ${show(weights)}`, weights);
  return weights.map((w, i): [string, number] => {
    const entry = object(what, w, `weights[${i}]`);
    const weight = entry['weight'];
    if (typeof weight !== 'number') fail(what, `weights[${i}].weight`, `'weights[${i}].weight' must be a number, got ${show(weight)}`, weight);
    return [id(what, entry, 'role', `weights[${i}].role`), weight];
  });
}

export function parseSetQuota(what: string, body: unknown): SetQuotaCommand {
  const f = object(what, body);
  const limits: Record<string, number> = {};
  if (f['limits'] !== undefined) {
    for (const [name, value] of Object.entries(object(what, f['limits'], 'limits'))) {
      if (typeof value !== 'number') fail(what, `limits.${name}`, `'limits.${name}' must be a number, got ${show(value)}`, value);
      limits[name] = value;
    }
  }
  return { role: id(what, f, 'role'), guarantee: resources(what, f, 'guarantee'), limits };
}

export function parseRemoveQuota(what: string, body: unknown): string {
  return id(what, object(what, body), 'role');
}
