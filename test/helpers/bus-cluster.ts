import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestFn } from 'ava';
import { pino } from 'pino';
import { startAgentNode, type AgentNode } from '../../actors/cluster/agent-node.ts';
import { startMasterNode, type MasterNode } from '../../actors/cluster/master-node.ts';
import { SLAVE_REGISTERED } from '../../src/mesos/protocol.ts';
import { NatsTransport } from '../../src/transport/nats.ts';
import { Processes } from '../multihost/processes.ts';
import { futureMessage } from './filters.ts';
import { startNatsServer, type NatsServer } from './nats-server.ts';

/**
 * A master and one agent on a real nats-server, both in the test's process, for tests that run
 * the client commands (`execute`, `state`, ...) as OS processes against them: started before the
 * file's tests, stopped (with every process started through `procs`) after them. Its fields are
 * set once the `before` hook ran.
 */
export interface BusCluster {
  nats: NatsServer;
  master: MasterNode;
  agent: AgentNode;
  /** A temporary directory of the test file's; the agent's work_dir is `agent` under it. */
  work: string;
  readonly procs: Processes;
  /** The flags that put a client command on this cluster's bus. */
  bus(): string[];
}

/** Installs `test.before`/`test.after.always` hooks that start and stop a `BusCluster` named `name` (its NATS prefix too). */
export function useBusCluster(test: TestFn<any>, name: string, resources: string): BusCluster {
  const logger = pino({ level: process.env.MESOS_TS_LOG_LEVEL ?? 'error' });
  const cluster = { procs: new Processes(), bus: () => [`--nats=${cluster.nats.url}`, `--nats_prefix=${name}`] } as BusCluster;
  test.before(async () => {
    cluster.nats = await startNatsServer();
    cluster.work = mkdtempSync(join(tmpdir(), `mesos-ts-${name}-`));
    const transport = (): NatsTransport => new NatsTransport({ servers: cluster.nats.url, prefix: name, logger });
    cluster.master = await startMasterNode({ transport: transport(), node: `${name}-master`, logger, port: 0, allocationIntervalMs: 50 });
    const registered = futureMessage(SLAVE_REGISTERED, cluster.master.master.self, `slave(1)@${name}-agent`);
    cluster.agent = await startAgentNode({
      transport: transport(),
      node: `${name}-agent`,
      logger,
      port: 0,
      workDir: join(cluster.work, 'agent'),
      registrationBackoffFactorMs: 10,
      hostname: `${name}-agent`,
      resources,
    });
    await registered;
  });
  test.after.always(async () => {
    await cluster.procs.stopAll();
    await cluster.agent?.stop();
    await cluster.master?.stop();
    await cluster.nats?.stop();
    if (cluster.work !== undefined) rmSync(cluster.work, { recursive: true, force: true });
  });
  return cluster;
}
