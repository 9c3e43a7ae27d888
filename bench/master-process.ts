/**
 * A bench's master in an OS process of its own (the `scale` suite, so that its memory is its
 * own; the `offers` suite's `nats-split`, so that its CPU is its own):
 * `node --import tsx bench/master-process.ts <nats-url> <prefix> <node>` joins the bus as
 * `<node>` with a master, its allocator and a `MemoryProbe`. It prints `ready` once it listens,
 * and shuts down cleanly on SIGTERM. Started by `startMasterProcess` (`master-probe.ts`).
 */
import { AllocatorProcess } from '../actors/allocator/allocator-process.ts';
import { Master } from '../actors/master/master-process.ts';
import { Runtime } from '../src/process/runtime.ts';
import { NatsTransport } from '../src/transport/nats.ts';
import { MemoryProbe } from './master-probe.ts';
import { benchLogger } from './report.ts';

const [servers, prefix, node] = process.argv.slice(2);
if (servers === undefined || prefix === undefined || node === undefined) {
  console.error('usage: master-process.ts <nats-url> <prefix> <node>');
  process.exit(2);
}

// stdout says 'ready' to the bench; logs go to stderr, which it shares.
const runtime = await Runtime.start({ node, logger: benchLogger(), transport: new NatsTransport({ servers, prefix }) });
const master = new Master({ hostname: node });
runtime.spawn(new AllocatorProcess({ master: `master@${node}` }));
runtime.spawn(master);
runtime.spawn(new MemoryProbe(master));
process.on('SIGTERM', () => {
  void runtime.shutdown().then(() => process.exit(0));
});
process.stdout.write('ready\n');
