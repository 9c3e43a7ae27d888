import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import type { AgentInfo } from '../../src/mesos/v1/common.ts';
import type { NatsTransport } from '../../src/transport/nats.ts';
import { leaderBucket } from '../detector/contender.ts';

/**
 * The master's registry of agents, as Mesos's `Registrar`: what a newly elected master reads
 * (`recover`) to know which agents to wait for, and what the master writes (and waits for)
 * before it admits an agent, marks one unreachable or gone, or removes one. Only those four
 * write: offers, tasks and status updates never touch it (they are soft state, rebuilt from the
 * agents and frameworks that re-register).
 *
 * Three operator settings are kept too, as Mesos keeps them in its `Registry`: role weights
 * (`Registry.weights`, written by UPDATE_WEIGHTS and `/master/weights`), role quotas
 * (`Registry.quota_configs`, written by UPDATE_QUOTA and `/master/quota`) and which agents the
 * operator deactivated (Mesos's `Registry.Slave.deactivated`, by DEACTIVATE_AGENT).
 *
 * Unlike Mesos's, which keeps one `Registry` protobuf and applies operations to the whole of
 * it, this one keeps an entry per agent: the writes of different agents are independent, and
 * each is one key in the JetStream KV registry. Deactivations are kept apart from the agents'
 * entries (one key per deactivated agent), so that a deactivation needs no `SlaveInfo` (an
 * unreachable agent's is not in the master's memory) and no other write has to carry it.
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
 * A role's quota as kept (Mesos's `QuotaConfig`): the guaranteed quantity of each scalar
 * resource by name. No guarantee left: the role has no quota (the entry is removed).
 */
export interface QuotaEntry {
  readonly role: string;
  readonly guarantees: Readonly<Record<string, number>>;
}

/** The operator's settings a newly elected master reads with the agents. */
export interface RegistrySettings {
  /** Role weights set at runtime (or bootstrapped from `--weights`); roles not listed weigh 1. */
  readonly weights: WeightInfo[];
  /** Role quotas set at runtime (UPDATE_QUOTA, `/master/quota`); roles not listed have none. */
  readonly quotas: QuotaEntry[];
  /** Agents the operator deactivated (DEACTIVATE_AGENT) and has not reactivated. */
  readonly deactivatedAgents: string[];
}

/**
 * A registry. A write resolves once it is durable; a registry in this process's memory has
 * written by the time the call returns and returns nothing, so that a master on it (dev mode,
 * tests) admits an agent in the handler of its registration, as it did before there was a
 * registry (`Master.registrar` continues at once).
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
   * Sets the quotas of the roles listed, keeping the others; an entry without guarantees
   * removes the role's quota (Mesos's `quota::UpdateQuota`).
   */
  updateQuotas(quotas: readonly QuotaEntry[]): Promise<void> | void;
  /** Records that the operator deactivated (`true`) or reactivated (`false`) an agent. */
  updateDeactivated(agentId: string, deactivated: boolean): Promise<void> | void;
  /** For logs. */
  describe(): string;
}

/**
 * The registry in memory: the default (dev mode, one master, tests). A master alone has nobody
 * to hand it to, so it starts empty and the master leads at once; tests give it agents to
 * recover, or share one between the masters of a failover.
 *
 * @example
 * const registry = new InMemoryRegistry([{ info, state: 'admitted', time: 0 }]);
 * new Master({ registry }); // RECOVERING until that agent re-registers
 */
export class InMemoryRegistry implements Registry {
  readonly agents = new Map<string, RegistryAgent>();
  readonly weights = new Map<string, number>();
  readonly quotas = new Map<string, Readonly<Record<string, number>>>();
  readonly deactivatedAgents = new Set<string>();

  constructor(agents: readonly RegistryAgent[] = [], settings: Partial<RegistrySettings> = {}) {
    for (const agent of agents) this.agents.set(agent.info.id.value, agent);
    for (const { role, weight } of settings.weights ?? []) this.weights.set(role, weight);
    this.updateQuotas(settings.quotas ?? []);
    for (const id of settings.deactivatedAgents ?? []) this.deactivatedAgents.add(id);
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
      quotas: [...this.quotas].map(([role, guarantees]) => ({ role, guarantees })),
      deactivatedAgents: [...this.deactivatedAgents],
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

  describe(): string {
    return 'in memory';
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
/** The key of every role quota, one JSON object by role of guarantees by resource name. */
const QUOTAS_KEY = 'quotas';
/** The key of an agent the operator deactivated; deleted when it is reactivated. */
const DEACTIVATED_KEY_PREFIX = 'deactivated.';

/**
 * The registry in a JetStream KV bucket (`registryBucket`, no TTL, one revision kept), one key
 * per agent (`agents.<id>`) holding its `RegistryAgent` as JSON, the role weights under
 * `weights`, the role quotas under `quotas` and one `deactivated.<id>` key per agent the operator deactivated: what `mesos-ts master --nats`
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
      quotas: [...(await this.#quotas(kv))].map(([role, guarantees]) => ({ role, guarantees })),
      deactivatedAgents,
    };
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

  #weights(kv: KV): Promise<Map<string, number>> {
    return this.#setting(kv, WEIGHTS_KEY, parseRegistryWeights);
  }

  #quotas(kv: KV): Promise<Map<string, Readonly<Record<string, number>>>> {
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
  const value = JSON.parse(text) as Partial<RegistryAgent> | null;
  const id = value?.info?.id?.value;
  if (typeof id !== 'string' || id === '') throw new Error('registry entry: info.id.value must be a non-empty string');
  if (!STATES.includes(value!.state as RegistryAgentState)) throw new Error(`registry entry '${id}': state '${String(value!.state)}' must be one of ${STATES.join(', ')}`);
  if (typeof value!.time !== 'number') throw new Error(`registry entry '${id}': time must be a number`);
  return value as RegistryAgent;
}

/** The registry's weights from their JSON (`{"role": weight, ...}`); throws naming what is wrong. */
export function parseRegistryWeights(text: string): Map<string, number> {
  const value = JSON.parse(text) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('registry weights: must be a JSON object of role weights');
  const weights = new Map<string, number>();
  for (const [role, weight] of Object.entries(value)) {
    if (typeof weight !== 'number' || !(weight > 0)) throw new Error(`registry weights: weight of role '${role}' must be a positive number, got ${JSON.stringify(weight)}`);
    weights.set(role, weight);
  }
  return weights;
}

/** Applies quota updates to `all`: an entry without guarantees removes the role's quota. */
function mergeQuotas(all: Map<string, Readonly<Record<string, number>>>, quotas: readonly QuotaEntry[]): void {
  for (const { role, guarantees } of quotas) {
    if (Object.keys(guarantees).length === 0) all.delete(role);
    else all.set(role, { ...guarantees });
  }
}

/**
 * The registry's quotas from their JSON (`{"role": {"cpus": 2, ...}, ...}`); throws naming what
 * is wrong.
 */
export function parseRegistryQuotas(text: string): Map<string, Readonly<Record<string, number>>> {
  const value = JSON.parse(text) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('registry quotas: must be a JSON object of role quotas');
  const quotas = new Map<string, Readonly<Record<string, number>>>();
  for (const [role, guarantees] of Object.entries(value)) {
    if (typeof guarantees !== 'object' || guarantees === null || Array.isArray(guarantees)) throw new Error(`registry quotas: quota of role '${role}' must be a JSON object of guarantees`);
    for (const [name, quantity] of Object.entries(guarantees)) {
      if (typeof quantity !== 'number' || !(quantity >= 0)) throw new Error(`registry quotas: guarantee '${name}' of role '${role}' must be a non-negative number, got ${JSON.stringify(quantity)}`);
    }
    quotas.set(role, guarantees as Record<string, number>);
  }
  return quotas;
}
