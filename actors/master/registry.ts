import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import { MesosError } from '../../src/errors.ts';
import type { DrainConfig } from '../../src/mesos/protocol.ts';
import type { AgentInfo, Unavailability } from '../../src/mesos/v1/common.ts';
import { MachineIDSchema, ScheduleSchema, type MachineID, type Schedule } from '../../src/mesos/v1/maintenance.ts';
import { UnavailabilitySchema } from '../../src/mesos/v1/base.ts';
import { parseWith } from '../../src/mesos/v1/validate.ts';
import { z } from 'zod';
import type { NatsTransport } from '../../src/transport/nats.ts';
import { leaderBucket } from '../detector/contender.ts';

/**
 * The master's registry of agents, as Mesos's `Registrar`: what a newly elected master reads
 * (`recover`) to know which agents to wait for, and what the master writes (and waits for)
 * before it admits an agent, marks one unreachable or gone, or removes one. Only those four
 * write: offers, tasks and status updates never touch it (they are soft state, rebuilt from the
 * agents and frameworks that re-register).
 *
 * Four operator settings are kept too, as Mesos keeps them in its `Registry`: role weights
 * (`Registry.weights`, written by UPDATE_WEIGHTS and `/master/weights`), role quotas
 * (`Registry.quota_configs`, written by UPDATE_QUOTA and `/master/quota`), which agents the
 * operator deactivated (Mesos's `Registry.Slave.deactivated`, by DEACTIVATE_AGENT and
 * DRAIN_AGENT) and which it drains (Mesos's `Registry.Slave.drain_info`, by DRAIN_AGENT).
 * So is the maintenance the operator set (Mesos's `Registry.schedules` and `Registry.machines`:
 * the schedule, and the mode of each machine in it), read with `recoverMaintenance` and written
 * whole by `updateMaintenance`.
 *
 * Unlike Mesos's, which keeps one `Registry` protobuf and applies operations to the whole of
 * it, this one keeps an entry per agent: the writes of different agents are independent, and
 * each is one key in the JetStream KV registry (`NatsRegistry`; `FileRegistry` keeps them all in
 * one file, for `mesos-ts dev --work_dir`). Deactivations and drain infos are kept apart from
 * the agents' entries (one key per deactivated agent, one per drained or draining agent), so that
 * they need no `SlaveInfo` (an unreachable agent's is not in the master's memory) and no other
 * write has to carry them.
 */

/**
 * `--recovery_agent_removal_limit`, as a fraction: the most of the agents recovered from the
 * registry that a new leader marks unreachable when they do not re-register in time (Mesos: 100%).
 */
export const RECOVERY_AGENT_REMOVAL_LIMIT = 1;

/** Where an agent stands (Mesos's `Registry.slaves`, `Registry.unreachable`, `Registry.gone`). */
export type RegistryAgentState = 'admitted' | 'unreachable' | 'gone';

export interface RegistryAgent {
  /** The agent's `SlaveInfo`, its `id` set. */
  readonly info: AgentInfo & { id: { value: string } };
  readonly state: RegistryAgentState;
  /** When it entered `state` (ms since the epoch, the master's Clock). */
  readonly time: number;
}

/** A role's weight (`WeightInfo`). */
export interface WeightInfo {
  readonly role: string;
  readonly weight: number;
}

/**
 * A role's quota (Mesos's `Quota`): the guaranteed quantity of some scalar resources by name,
 * and the limit of some (a name without one is not limited; a limit may be 0).
 */
export interface Quota {
  readonly guarantees: Readonly<Record<string, number>>;
  readonly limits: Readonly<Record<string, number>>;
}

/**
 * A role's quota as kept (Mesos's `QuotaConfig`); `limits` absent: none. Neither guarantees
 * nor limits: the role has no quota (the entry is removed).
 */
export interface QuotaEntry {
  readonly role: string;
  readonly guarantees: Readonly<Record<string, number>>;
  readonly limits?: Readonly<Record<string, number>> | undefined;
}

/** Where an agent's draining stands (Mesos's `DrainState`). */
export type DrainState = 'DRAINING' | 'DRAINED';

/**
 * An agent the operator drains (DRAIN_AGENT), as Mesos's `DrainInfo`: `DRAINING` until the
 * master has none of its tasks left, then `DRAINED`; `config` as the operator gave it.
 */
export interface DrainInfo {
  readonly state: DrainState;
  readonly config: DrainConfig;
}

/** One agent's `DrainInfo`, as `RegistrySettings` lists them. */
export interface AgentDrainInfo {
  readonly agentId: string;
  readonly drainInfo: DrainInfo;
}

/**
 * A machine in maintenance, as Mesos's `Registry.Machine` keeps it: `DRAINING` (scheduled) or
 * `DOWN`, with the unavailability of its window. A machine `UP` is not kept.
 */
export interface MaintenanceMachine {
  readonly id: MachineID;
  readonly mode: 'DRAINING' | 'DOWN';
  readonly unavailability: Unavailability;
}

/** The maintenance the operator set (Mesos's `Registry.schedules`, one here, and `Registry.machines`). */
export interface MaintenanceRecord {
  readonly schedule: Schedule;
  readonly machines: readonly MaintenanceMachine[];
}

/** No maintenance: what a registry that never had any recovers. */
export const NO_MAINTENANCE: MaintenanceRecord = Object.freeze({ schedule: Object.freeze({ windows: [] }), machines: [] });

/** The operator's settings a newly elected master reads with the agents. */
export interface RegistrySettings {
  /** Role weights set at runtime (or bootstrapped from `--weights`); roles not listed weigh 1. */
  readonly weights: WeightInfo[];
  /** Role quotas set at runtime (UPDATE_QUOTA, `/master/quota`); roles not listed have none. */
  readonly quotas: QuotaEntry[];
  /** Agents the operator deactivated (DEACTIVATE_AGENT, DRAIN_AGENT) and has not reactivated. */
  readonly deactivatedAgents: string[];
  /** Agents the operator drains or drained (DRAIN_AGENT), until reactivated once drained (REACTIVATE_AGENT). */
  readonly drainInfos: AgentDrainInfo[];
}

/**
 * A registry. A write resolves once it is durable; a registry in this process's memory (or in a
 * local file, written synchronously) has written by the time the call returns and returns
 * nothing, so that a master on it (dev mode, tests) admits an agent in the handler of its
 * registration, as it did before there was a registry (`Master.registrar` continues at once).
 */
export interface Registry {
  /** Every agent listed, read once when the master is elected (Mesos's `Registrar::recover`). */
  recover(): Promise<RegistryAgent[]> | RegistryAgent[];
  /** Records the agent in its state (`AdmitSlave`, `MarkSlaveReachable`, `MarkSlaveUnreachable`, `MarkSlaveGone`). */
  update(agent: RegistryAgent): Promise<void> | void;
  /** Forgets the agent: it unregistered, or another took its address (`RemoveSlave`). */
  remove(agentId: string): Promise<void> | void;
  /** The operator's settings, read once when the master is elected, with `recover`. */
  recoverSettings(): Promise<RegistrySettings> | RegistrySettings;
  /** Sets the weights of the roles listed, keeping the others (Mesos's `weights::UpdateWeights`). */
  updateWeights(weights: readonly WeightInfo[]): Promise<void> | void;
  /**
   * Sets the quotas of the roles listed, keeping the others; an entry without guarantees or
   * limits removes the role's quota (Mesos's `quota::UpdateQuota`).
   */
  updateQuotas(quotas: readonly QuotaEntry[]): Promise<void> | void;
  /** Records that the operator deactivated (`true`) or reactivated (`false`) an agent. */
  updateDeactivated(agentId: string, deactivated: boolean): Promise<void> | void;
  /**
   * Records the agent's drain info (DRAIN_AGENT, then DRAINED), or forgets it (`undefined`:
   * REACTIVATE_AGENT of a drained agent). The agent's deactivation is `updateDeactivated`'s.
   */
  updateDrain(agentId: string, drainInfo: DrainInfo | undefined): Promise<void> | void;
  /** The maintenance schedule and machine modes, read once when the master is elected, with `recover`. */
  recoverMaintenance(): Promise<MaintenanceRecord> | MaintenanceRecord;
  /**
   * Replaces the maintenance schedule and machine modes (Mesos's `UpdateSchedule`,
   * `StartMaintenance`, `StopMaintenance`, each of which the master turns into the whole record).
   */
  updateMaintenance(maintenance: MaintenanceRecord): Promise<void> | void;
  /** For logs. */
  describe(): string;
}

/**
 * The registry in memory: the default (one master, `mesos-ts dev` on a temporary work directory,
 * tests). A master alone has nobody to hand it to, so it starts empty and the master leads at
 * once; tests give it agents to recover, or share one between the masters of a failover.
 *
 * @example
 * const registry = new InMemoryRegistry([{ info, state: 'admitted', time: 0 }]);
 * new Master({ registry }); // RECOVERING until that agent re-registers
 */
export class InMemoryRegistry implements Registry {
  readonly agents = new Map<string, RegistryAgent>();
  readonly weights = new Map<string, number>();
  readonly quotas = new Map<string, Quota>();
  readonly deactivatedAgents = new Set<string>();
  readonly drainInfos = new Map<string, DrainInfo>();
  maintenance: MaintenanceRecord;

  constructor(agents: readonly RegistryAgent[] = [], settings: Partial<RegistrySettings> = {}, maintenance: MaintenanceRecord = NO_MAINTENANCE) {
    this.maintenance = maintenance;
    for (const agent of agents) this.agents.set(agent.info.id.value, agent);
    for (const { role, weight } of settings.weights ?? []) this.weights.set(role, weight);
    this.updateQuotas(settings.quotas ?? []);
    for (const id of settings.deactivatedAgents ?? []) this.deactivatedAgents.add(id);
    for (const { agentId, drainInfo } of settings.drainInfos ?? []) this.drainInfos.set(agentId, drainInfo);
  }

  recover(): RegistryAgent[] {
    return [...this.agents.values()];
  }

  update(agent: RegistryAgent): void {
    this.agents.set(agent.info.id.value, agent);
  }

  remove(agentId: string): void {
    this.agents.delete(agentId);
  }

  recoverSettings(): RegistrySettings {
    return {
      weights: [...this.weights].map(([role, weight]) => ({ role, weight })),
      quotas: [...this.quotas].map(([role, quota]) => ({ role, ...quota })),
      deactivatedAgents: [...this.deactivatedAgents],
      drainInfos: [...this.drainInfos].map(([agentId, drainInfo]) => ({ agentId, drainInfo })),
    };
  }

  updateQuotas(quotas: readonly QuotaEntry[]): void {
    mergeQuotas(this.quotas, quotas);
  }

  updateWeights(weights: readonly WeightInfo[]): void {
    for (const { role, weight } of weights) this.weights.set(role, weight);
  }

  updateDeactivated(agentId: string, deactivated: boolean): void {
    if (deactivated) this.deactivatedAgents.add(agentId);
    else this.deactivatedAgents.delete(agentId);
  }

  updateDrain(agentId: string, drainInfo: DrainInfo | undefined): void {
    if (drainInfo !== undefined) this.drainInfos.set(agentId, drainInfo);
    else this.drainInfos.delete(agentId);
  }

  recoverMaintenance(): MaintenanceRecord {
    return this.maintenance;
  }

  updateMaintenance(maintenance: MaintenanceRecord): void {
    this.maintenance = maintenance;
  }

  describe(): string {
    return 'in memory';
  }
}

/** The registry file could not be read (or is not a registry), or a write to it failed. */
export class RegistryFileError extends MesosError {}

/**
 * The registry in a JSON file, what `mesos-ts dev --work_dir` keeps at
 * `<work_dir>/master/registry.json`, so that its next run on that directory keeps the
 * operator's weights, quotas, deactivations, drains and maintenance and waits for the agents it had (DESIGN.md §5:
 * "or a file (dev mode)"). It is an `InMemoryRegistry` that writes the whole of itself to the
 * file on every write: a temporary file beside it, flushed to disk, then renamed over it, so
 * the file always holds one write or the next, never half of one. A write is durable when the
 * call returns, and returns nothing, so that the master continues at once, as on a registry in
 * memory; one that fails leaves the registry as it was and returns a rejected promise, on which
 * the master gives the lead up (`Master.registrar`), as on a failed write to JetStream KV.
 *
 * The file is read once, at construction: a missing one is an empty registry (a first run); an
 * unreadable one, one that is not JSON or not a registry throws a `RegistryFileError` naming it
 * and what is wrong, rather than the master starting empty and forgetting what it held. A file
 * written before drains were kept (no `drainInfos`) reads as one without any. Only one process
 * is to use a file at a time.
 *
 * @example
 * const registry = new FileRegistry('/var/tmp/mesos-ts/master/registry.json');
 * registry.updateWeights([{ role: 'eng', weight: 2 }]); // on disk when it returns
 * new FileRegistry(registry.file).recoverSettings().weights; // [{ role: 'eng', weight: 2 }]
 */
export class FileRegistry implements Registry {
  readonly file: string;
  /** What the file holds: replaced by a copy only once that copy is on disk. */
  #memory: InMemoryRegistry;

  constructor(file: string) {
    this.file = file;
    this.#memory = readRegistryFile(file);
  }

  recover(): RegistryAgent[] {
    return this.#memory.recover();
  }

  recoverSettings(): RegistrySettings {
    return this.#memory.recoverSettings();
  }

  update(agent: RegistryAgent): Promise<void> | void {
    return this.#write((next) => next.update(agent));
  }

  remove(agentId: string): Promise<void> | void {
    return this.#write((next) => next.remove(agentId));
  }

  updateWeights(weights: readonly WeightInfo[]): Promise<void> | void {
    return this.#write((next) => next.updateWeights(weights));
  }

  updateQuotas(quotas: readonly QuotaEntry[]): Promise<void> | void {
    return this.#write((next) => next.updateQuotas(quotas));
  }

  updateDeactivated(agentId: string, deactivated: boolean): Promise<void> | void {
    return this.#write((next) => next.updateDeactivated(agentId, deactivated));
  }

  updateDrain(agentId: string, drainInfo: DrainInfo | undefined): Promise<void> | void {
    return this.#write((next) => next.updateDrain(agentId, drainInfo));
  }

  recoverMaintenance(): MaintenanceRecord {
    return this.#memory.recoverMaintenance();
  }

  updateMaintenance(maintenance: MaintenanceRecord): Promise<void> | void {
    return this.#write((next) => next.updateMaintenance(maintenance));
  }

  describe(): string {
    return `file '${this.file}'`;
  }

  /** Applies `change` to a copy, writes the copy, and keeps it once it is on disk. */
  #write(change: (next: InMemoryRegistry) => void): Promise<void> | void {
    const next = new InMemoryRegistry(this.#memory.recover(), this.#memory.recoverSettings(), this.#memory.recoverMaintenance());
    change(next);
    try {
      writeFileDurably(this.file, `${JSON.stringify(registryFileContent(next), null, 2)}\n`);
    } catch (error) {
      return Promise.reject(new RegistryFileError(`cannot write registry file '${this.file}': ${(error as Error).message}`, { cause: error }));
    }
    this.#memory = next;
  }
}

/** What a registry file holds. */
interface RegistryFileContent {
  agents: RegistryAgent[];
  /** By role, as the KV registry's `weights` key. */
  weights: Record<string, number>;
  /** Quotas by role, as the KV registry's `quotas` key. */
  quotas: Record<string, Quota>;
  deactivatedAgents: string[];
  /** By agent id, as the KV registry's `drain.<id>` keys; optional (files written before drains have none). */
  drainInfos?: Record<string, DrainInfo>;
  /** As the KV registry's `maintenance` key; optional (files written before maintenance have none). */
  maintenance?: MaintenanceRecord;
}

function registryFileContent(registry: InMemoryRegistry): RegistryFileContent {
  return {
    agents: registry.recover(),
    weights: Object.fromEntries(registry.weights),
    quotas: Object.fromEntries(registry.quotas),
    deactivatedAgents: [...registry.deactivatedAgents],
    drainInfos: Object.fromEntries(registry.drainInfos),
    maintenance: registry.maintenance,
  };
}

/** The registry a file holds (an empty one if there is no file); throws a `RegistryFileError` naming the file and what is wrong. */
function readRegistryFile(file: string): InMemoryRegistry {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new InMemoryRegistry();
    throw new RegistryFileError(`cannot read registry file '${file}': ${(error as Error).message}`, { cause: error });
  }
  const wrong = (what: string, cause?: unknown): RegistryFileError =>
    new RegistryFileError(`invalid registry file '${file}': ${what} (move it away to start with an empty registry)`, cause === undefined ? undefined : { cause });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw wrong(`not valid JSON: ${(error as Error).message}`, error);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw wrong('must be a JSON object with agents, weights, quotas, deactivatedAgents and (optionally) drainInfos');
  const content = value as Partial<Record<keyof RegistryFileContent, unknown>>;
  for (const key of ['agents', 'weights', 'quotas', 'deactivatedAgents'] as const) {
    if (!(key in content)) throw wrong(`'${key}' is missing`);
  }
  if (!Array.isArray(content.agents)) throw wrong("'agents' must be an array of registry entries");
  if (!Array.isArray(content.deactivatedAgents) || !content.deactivatedAgents.every((id) => typeof id === 'string' && id !== '')) {
    throw wrong("'deactivatedAgents' must be an array of agent ids");
  }
  // The KV registry's parsers, which name the entry, the role or the resource that is wrong.
  const checked = <T>(what: string, parse: () => T): T => {
    try {
      return parse();
    } catch (error) {
      throw wrong(`${what}${(error as Error).message}`, error);
    }
  };
  const deactivatedAgents = content.deactivatedAgents as string[];
  const agents = content.agents.map((agent, i) => checked(`agents[${i}]: `, () => registryAgentFrom(agent)));
  const weights = checked('', () => registryWeightsFrom(content.weights));
  const quotas = checked('', () => registryQuotasFrom(content.quotas));
  // Optional: a file written before drains were kept has no `drainInfos`.
  const drains = content.drainInfos ?? {};
  if (typeof drains !== 'object' || drains === null || Array.isArray(drains)) throw wrong("'drainInfos' must be a JSON object of drain infos by agent id");
  const drainInfos = Object.entries(drains).map(([agentId, drainInfo]) => ({ agentId, drainInfo: checked('drainInfos: ', () => drainInfoFrom(agentId, drainInfo)) }));
  // Optional: a file written before maintenance was kept has none.
  const maintenance = content.maintenance === undefined ? NO_MAINTENANCE : checked('', () => maintenanceFrom(content.maintenance));
  return new InMemoryRegistry(
    agents,
    {
      weights: [...weights].map(([role, weight]) => ({ role, weight })),
      quotas: [...quotas].map(([role, quota]) => ({ role, ...quota })),
      deactivatedAgents,
      drainInfos,
    },
    maintenance,
  );
}

/**
 * Replaces `file` with `content` atomically and durably: a temporary file beside it, flushed
 * (`fsync`), renamed over it, and the directory flushed so that the rename is kept too.
 */
function writeFileDurably(file: string, content: string): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true });
  const temp = `${file}.tmp`;
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
  let dirFd: number | undefined;
  try {
    dirFd = openSync(dir, 'r');
    fsyncSync(dirFd);
  } catch {
    // Not every platform can flush a directory (Windows cannot open one): the rename is made, if not yet flushed.
  } finally {
    if (dirFd !== undefined) closeSync(dirFd);
  }
}

/**
 * The registry bucket of a bus prefix: the election bucket's sanitized prefix, `_registry`.
 *
 * @example
 * registryBucket('mesos'); // 'mesos_registry'
 */
export function registryBucket(prefix: string): string {
  return leaderBucket(prefix).replace(/_leader$/, '_registry');
}

/** The key of an agent's entry (agent ids are `<master id>-S<n>`: key-safe). */
const AGENT_KEY_PREFIX = 'agents.';
/** The key of every role weight, one JSON object by role (role names are not all key-safe). */
const WEIGHTS_KEY = 'weights';
/** The key of every role quota, one JSON object by role: `{"guarantees": {...}, "limits": {...}}`. */
const QUOTAS_KEY = 'quotas';
/** The key of an agent the operator deactivated; deleted when it is reactivated. */
const DEACTIVATED_KEY_PREFIX = 'deactivated.';
/** The key of an agent the operator drains or drained, its `DrainInfo` as JSON; deleted when it is reactivated. */
const DRAIN_KEY_PREFIX = 'drain.';
/** The key of the maintenance schedule and machine modes, one `MaintenanceRecord` as JSON. */
const MAINTENANCE_KEY = 'maintenance';

/**
 * The registry in a JetStream KV bucket (`registryBucket`, no TTL, one revision kept), one key
 * per agent (`agents.<id>`) holding its `RegistryAgent` as JSON, the role weights under
 * `weights`, the role quotas under `quotas`, one `deactivated.<id>` key per agent the operator
 * deactivated, one `drain.<id>` key (its `DrainInfo`) per agent it drains or drained and the
 * maintenance schedule and machine modes under `maintenance`: what `mesos-ts master --nats`
 * uses, so that whichever master is elected next reads what the last one wrote. Writes go out
 * one after another, in the order the master made them, as Mesos's registrar applies its
 * operations; each resolves once the server has stored it.
 *
 * Only the leading master writes: a master that lost the lead exits (as Mesos's does) rather
 * than write on, so no compare-and-set is needed between masters.
 *
 * @example
 * const registry = new NatsRegistry(transport);
 * await registry.recover(); // [] on a new bus
 */
export class NatsRegistry implements Registry {
  readonly #transport: NatsTransport;
  readonly #logger: Logger | undefined;
  readonly #timeoutMs: number;
  #kv: Promise<KV> | undefined;
  /** The last write in flight: the next one goes after it. */
  #last: Promise<unknown> = Promise.resolve();

  constructor(transport: NatsTransport, options: { logger?: Logger; timeoutMs?: number } = {}) {
    this.#transport = transport;
    this.#logger = options.logger;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  get bucket(): string {
    return registryBucket(this.#transport.prefix);
  }

  async recover(): Promise<RegistryAgent[]> {
    const kv = await this.#open();
    const agents: RegistryAgent[] = [];
    const keys: string[] = [];
    for await (const key of await kv.keys(`${AGENT_KEY_PREFIX}>`)) keys.push(key);
    for (const key of keys) {
      const entry = await kv.get(key);
      if (entry === null || entry.operation !== 'PUT') continue;
      try {
        agents.push(parseRegistryAgent(entry.string()));
      } catch (error) {
        // One unreadable entry does not cost the others: that agent is admitted as unknown if it re-registers.
        this.#logger?.warn({ bucket: this.bucket, key, reason: (error as Error).message }, 'Skipping an unreadable registry entry');
      }
    }
    return agents;
  }

  update(agent: RegistryAgent): Promise<void> {
    return this.#write(async (kv) => void (await kv.put(AGENT_KEY_PREFIX + agent.info.id.value, JSON.stringify(agent))));
  }

  remove(agentId: string): Promise<void> {
    return this.#write(async (kv) => void (await kv.delete(AGENT_KEY_PREFIX + agentId)));
  }

  async recoverSettings(): Promise<RegistrySettings> {
    const kv = await this.#open();
    const deactivatedAgents: string[] = [];
    for await (const key of await kv.keys(`${DEACTIVATED_KEY_PREFIX}>`)) deactivatedAgents.push(key.slice(DEACTIVATED_KEY_PREFIX.length));
    return {
      weights: [...(await this.#weights(kv))].map(([role, weight]) => ({ role, weight })),
      quotas: [...(await this.#quotas(kv))].map(([role, quota]) => ({ role, ...quota })),
      deactivatedAgents,
      drainInfos: await this.#drainInfos(kv),
    };
  }

  /** Every `drain.<id>` key. An unreadable one is skipped, as an unreadable agent entry: that agent is not draining. */
  async #drainInfos(kv: KV): Promise<AgentDrainInfo[]> {
    const keys: string[] = [];
    for await (const key of await kv.keys(`${DRAIN_KEY_PREFIX}>`)) keys.push(key);
    const drainInfos: AgentDrainInfo[] = [];
    for (const key of keys) {
      const entry = await kv.get(key);
      if (entry === null || entry.operation !== 'PUT') continue;
      const agentId = key.slice(DRAIN_KEY_PREFIX.length);
      try {
        drainInfos.push({ agentId, drainInfo: parseDrainInfo(agentId, entry.string()) });
      } catch (error) {
        this.#logger?.warn({ bucket: this.bucket, key, reason: (error as Error).message }, 'Skipping an unreadable registry drain info');
      }
    }
    return drainInfos;
  }

  /** Read, merged and written in the write queue: two updates in flight do not lose each other's roles. */
  updateWeights(weights: readonly WeightInfo[]): Promise<void> {
    return this.#write(async (kv) => {
      const all = await this.#weights(kv);
      for (const { role, weight } of weights) all.set(role, weight);
      await kv.put(WEIGHTS_KEY, JSON.stringify(Object.fromEntries(all)));
    });
  }

  /** As `updateWeights`: read, merged and written in the write queue. */
  updateQuotas(quotas: readonly QuotaEntry[]): Promise<void> {
    return this.#write(async (kv) => {
      const all = await this.#quotas(kv);
      mergeQuotas(all, quotas);
      await kv.put(QUOTAS_KEY, JSON.stringify(Object.fromEntries(all)));
    });
  }

  updateDeactivated(agentId: string, deactivated: boolean): Promise<void> {
    const key = DEACTIVATED_KEY_PREFIX + agentId;
    return this.#write(async (kv) => void (deactivated ? await kv.put(key, 'true') : await kv.delete(key)));
  }

  updateDrain(agentId: string, drainInfo: DrainInfo | undefined): Promise<void> {
    const key = DRAIN_KEY_PREFIX + agentId;
    return this.#write(async (kv) => void (drainInfo !== undefined ? await kv.put(key, JSON.stringify(drainInfo)) : await kv.delete(key)));
  }

  /**
   * The `maintenance` key. An unreadable one is ignored, as an unreadable setting: the master
   * starts without maintenance (logged), until the operator posts a schedule again.
   */
  async recoverMaintenance(): Promise<MaintenanceRecord> {
    const kv = await this.#open();
    const entry = await kv.get(MAINTENANCE_KEY);
    if (entry === null || entry.operation !== 'PUT') return NO_MAINTENANCE;
    try {
      return parseMaintenance(entry.string());
    } catch (error) {
      this.#logger?.warn({ bucket: this.bucket, key: MAINTENANCE_KEY, reason: (error as Error).message }, 'Ignoring unreadable registry maintenance');
      return NO_MAINTENANCE;
    }
  }

  updateMaintenance(maintenance: MaintenanceRecord): Promise<void> {
    return this.#write(async (kv) => void (await kv.put(MAINTENANCE_KEY, JSON.stringify(maintenance))));
  }

  #weights(kv: KV): Promise<Map<string, number>> {
    return this.#setting(kv, WEIGHTS_KEY, parseRegistryWeights);
  }

  #quotas(kv: KV): Promise<Map<string, Quota>> {
    return this.#setting(kv, QUOTAS_KEY, parseRegistryQuotas);
  }

  /**
   * A role setting (weights, quotas) by role. An unreadable one is ignored, as an unreadable
   * agent entry: the roles go without it (weight 1 or `--weights`, no quota) until the
   * operator sets it again.
   */
  async #setting<V>(kv: KV, key: string, parse: (text: string) => Map<string, V>): Promise<Map<string, V>> {
    const entry = await kv.get(key);
    if (entry === null || entry.operation !== 'PUT') return new Map();
    try {
      return parse(entry.string());
    } catch (error) {
      this.#logger?.warn({ bucket: this.bucket, key, reason: (error as Error).message }, `Ignoring unreadable registry ${key}`);
      return new Map();
    }
  }

  describe(): string {
    return `NATS KV bucket '${this.bucket}'`;
  }

  #write(write: (kv: KV) => Promise<void>): Promise<void> {
    const done = this.#last.then(async () => write(await this.#open()));
    // A failed write fails its caller only; the next one still goes.
    this.#last = done.catch(() => undefined);
    return done;
  }

  /** Opens (creating) the bucket, once; a failed open is tried again by the next call. */
  #open(): Promise<KV> {
    if (this.#kv !== undefined) return this.#kv;
    const nc = this.#transport.connection;
    if (nc === undefined) return Promise.reject(new Error(`cannot open bucket '${this.bucket}': the NATS transport is not attached`));
    const opened = new Kvm(jetstream(nc, { timeout: this.#timeoutMs })).create(this.bucket, { history: 1 });
    this.#kv = opened;
    opened.catch(() => {
      if (this.#kv === opened) this.#kv = undefined;
    });
    return opened;
  }
}

const STATES: readonly RegistryAgentState[] = ['admitted', 'unreachable', 'gone'];

/** A registry entry from its JSON; throws naming what is wrong. */
export function parseRegistryAgent(text: string): RegistryAgent {
  return registryAgentFrom(JSON.parse(text));
}

/** A registry entry from its parsed JSON; throws naming what is wrong. */
function registryAgentFrom(parsed: unknown): RegistryAgent {
  const value = parsed as Partial<RegistryAgent> | null;
  const id = value?.info?.id?.value;
  if (typeof id !== 'string' || id === '') throw new Error('registry entry: info.id.value must be a non-empty string');
  if (!STATES.includes(value!.state as RegistryAgentState)) throw new Error(`registry entry '${id}': state '${String(value!.state)}' must be one of ${STATES.join(', ')}`);
  if (typeof value!.time !== 'number') throw new Error(`registry entry '${id}': time must be a number`);
  return value as RegistryAgent;
}

const DRAIN_STATES: readonly DrainState[] = ['DRAINING', 'DRAINED'];

/** An agent's drain info from its JSON (a `drain.<id>` key); throws naming the agent and what is wrong. */
export function parseDrainInfo(agentId: string, text: string): DrainInfo {
  return drainInfoFrom(agentId, JSON.parse(text));
}

function drainInfoFrom(agentId: string, value: unknown): DrainInfo {
  const what = `drain info of agent '${agentId}'`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what}: must be a JSON object with state and config`);
  const { state, config } = value as Partial<Record<keyof DrainInfo, unknown>>;
  if (!DRAIN_STATES.includes(state as DrainState)) throw new Error(`${what}: state ${JSON.stringify(state)} must be one of ${DRAIN_STATES.join(', ')}`);
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new Error(`${what}: config must be a JSON object`);
  const { max_grace_period: grace, mark_gone: markGone } = config as Record<string, unknown>;
  if (grace !== undefined) {
    const nanoseconds = (grace as { nanoseconds?: unknown } | null)?.nanoseconds;
    if (typeof nanoseconds !== 'number' || !Number.isInteger(nanoseconds) || nanoseconds < 0) {
      throw new Error(`${what}: config.max_grace_period.nanoseconds must be a non-negative integer, got ${JSON.stringify(nanoseconds)}`);
    }
  }
  if (markGone !== undefined && typeof markGone !== 'boolean') throw new Error(`${what}: config.mark_gone must be a boolean, got ${JSON.stringify(markGone)}`);
  return value as DrainInfo;
}

/** The registry's weights from their JSON (`{"role": weight, ...}`); throws naming what is wrong. */
export function parseRegistryWeights(text: string): Map<string, number> {
  return registryWeightsFrom(JSON.parse(text));
}

function registryWeightsFrom(value: unknown): Map<string, number> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('registry weights: must be a JSON object of role weights');
  const weights = new Map<string, number>();
  for (const [role, weight] of Object.entries(value)) {
    if (typeof weight !== 'number' || !(weight > 0)) throw new Error(`registry weights: weight of role '${role}' must be a positive number, got ${JSON.stringify(weight)}`);
    weights.set(role, weight);
  }
  return weights;
}

/** Applies quota updates to `all`: an entry without guarantees or limits removes the role's quota. */
function mergeQuotas(all: Map<string, Quota>, quotas: readonly QuotaEntry[]): void {
  for (const { role, guarantees, limits = {} } of quotas) {
    if (Object.keys(guarantees).length === 0 && Object.keys(limits).length === 0) all.delete(role);
    else all.set(role, { guarantees: { ...guarantees }, limits: { ...limits } });
  }
}

/**
 * The registry's quotas from their JSON (`{"role": {"guarantees": {"cpus": 2}, "limits":
 * {"cpus": 4}}, ...}`, or as written before limits were kept, `{"role": {"cpus": 2}}`: those
 * guarantees and no limits); throws naming what is wrong.
 */
export function parseRegistryQuotas(text: string): Map<string, Quota> {
  return registryQuotasFrom(JSON.parse(text));
}

function registryQuotasFrom(value: unknown): Map<string, Quota> {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(value)) throw new Error('registry quotas: must be a JSON object of role quotas');
  const quantities = (role: string, what: 'guarantee' | 'limit', v: unknown): Record<string, number> => {
    if (v === undefined) return {};
    if (!isObject(v)) throw new Error(`registry quotas: ${what}s of role '${role}' must be a JSON object of quantities`);
    for (const [name, quantity] of Object.entries(v)) {
      if (typeof quantity !== 'number' || !(quantity >= 0)) throw new Error(`registry quotas: ${what} '${name}' of role '${role}' must be a non-negative number, got ${JSON.stringify(quantity)}`);
    }
    return v as Record<string, number>;
  };
  const quotas = new Map<string, Quota>();
  for (const [role, quota] of Object.entries(value)) {
    if (!isObject(quota)) throw new Error(`registry quotas: quota of role '${role}' must be a JSON object of guarantees and limits`);
    const legacy = Object.values(quota).every((v) => typeof v !== 'object' || v === null);
    if (legacy) quotas.set(role, { guarantees: quantities(role, 'guarantee', quota), limits: {} });
    else quotas.set(role, { guarantees: quantities(role, 'guarantee', quota['guarantees']), limits: quantities(role, 'limit', quota['limits']) });
  }
  return quotas;
}

const MaintenanceRecordSchema = z.object({
  schedule: ScheduleSchema,
  machines: z.array(z.object({ id: MachineIDSchema, mode: z.enum(['DRAINING', 'DOWN']), unavailability: UnavailabilitySchema })),
});

/** The registry's maintenance from its JSON (the `maintenance` key); throws naming the field that is wrong. */
export function parseMaintenance(text: string): MaintenanceRecord {
  return maintenanceFrom(JSON.parse(text));
}

function maintenanceFrom(value: unknown): MaintenanceRecord {
  return parseWith(MaintenanceRecordSchema, value, { what: 'registry maintenance' });
}
