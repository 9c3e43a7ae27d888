/**
 * Dynamic reservations in the allocator (Mesos's `updateAllocation` and `updateAvailable`, as its
 * `hierarchical_allocator_tests.cpp` `UpdateAllocation` and `UpdateAvailableSuccess`/`Fail`): the
 * policy called directly, then the actor by messages with a `Probe` master on the paused Clock.
 */

import test from 'ava';
import { AllocatorProcess } from '../../actors/allocator/allocator-process.ts';
import { HierarchicalAllocation, type Offer } from '../../actors/allocator/hierarchical.ts';
import {
  ALLOCATOR_ADD_AGENT,
  ALLOCATOR_ADD_FRAMEWORK,
  ALLOCATOR_OFFERS,
  ALLOCATOR_UPDATE_ALLOCATION,
  ALLOCATOR_UPDATE_AVAILABLE,
  ALLOCATOR_UPDATE_AVAILABLE_RESULT,
  type UpdateAvailableResult,
} from '../../actors/allocator/protocol.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { localWorld, Probe } from '../helpers/runtime.ts';

const r = (text: string): Resources => Resources.parse(text);
const web = (text: string) => r(text.split(';').map((part) => part.replace(':', '(reservations: [(DYNAMIC,web)]):')).join(';'));

function show(offers: readonly Offer[]): string[] {
  return offers.map((o) => `${o.frameworkId}/${o.role}@${o.agentId} ${o.resources.toString()}`).sort();
}

test('UpdateAllocation - a RESERVE converts the offered resources; once recovered, the reservation goes to its role only', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('a1', r('cpus:4;mem:1024'));
  allocation.addFramework('fw', { roles: ['web'] });
  t.deepEqual(show(allocation.allocate(0)), ['fw/web@a1 cpus:4;mem:1024']);

  allocation.updateAllocation('fw', 'a1', r('cpus:2'), web('cpus:2'), 'web');
  t.true(allocation.allocation('fw').get('a1')!.equals(r('cpus:2;mem:1024').plus(web('cpus:2'))));
  t.true(allocation.agent('a1')!.total.equals(r('cpus:2;mem:1024').plus(web('cpus:2'))), 'the agent total follows');
  t.true(allocation.agent('a1')!.available.isEmpty());
  t.throws(() => allocation.updateAllocation('fw', 'a1', r('cpus:3'), web('cpus:3')), { message: /does not hold cpus:3/ });

  allocation.recoverResources('fw', 'a1', allocation.allocation('fw').get('a1')!);
  allocation.addFramework('fb', { roles: ['batch'] });
  allocation.deactivateFramework('fw');
  t.deepEqual(show(allocation.allocate(1)), ['fb/batch@a1 cpus:2;mem:1024'], 'another role gets the unreserved part only');
  allocation.activateFramework('fw');
  t.deepEqual(show(allocation.allocate(2)), [`fw/web@a1 ${web('cpus:2')}`]);
});

test('UpdateAllocation - an UNRESERVE gives the resources back to *, in the role that held them', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('a1', r('cpus:2').plus(web('cpus:2')));
  allocation.addFramework('fw', { roles: ['web'] });
  t.deepEqual(show(allocation.allocate(0)), [`fw/web@a1 ${r('cpus:2').plus(web('cpus:2'))}`]);
  allocation.updateAllocation('fw', 'a1', web('cpus:2'), r('cpus:2'));
  t.true(allocation.agent('a1')!.total.equals(r('cpus:4')));
  allocation.recoverResources('fw', 'a1', r('cpus:4'));
  allocation.addFramework('fb', { roles: ['batch'] });
  allocation.deactivateFramework('fw');
  t.deepEqual(show(allocation.allocate(1)), ['fb/batch@a1 cpus:4']);
});

test('ReservedDRF - reserved resources allocated to a role count toward its dominant share', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('a1', r('cpus:6;mem:600'));
  allocation.addFramework('fw', { roles: ['web'] });
  allocation.allocate(0);
  allocation.updateAllocation('fw', 'a1', r('cpus:6;mem:600'), web('cpus:6;mem:600'), 'web');
  allocation.addFramework('fb', { roles: ['batch'] });
  allocation.addFramework('fw2', { roles: ['web'] });
  allocation.addAgent('a2', r('cpus:2;mem:200'));
  // web holds 6 of 8 cpus (all reserved), batch nothing: batch comes first for a2.
  t.deepEqual(show(allocation.allocate(1)), ['fb/batch@a2 cpus:2;mem:200']);
});

test('UpdateAvailable - the operator converts free resources, or hears why not; malformed requests are answered too', async (t) => {
  const { runtimes, clock, shutdown } = await localWorld(['allocator-reservations']);
  t.teardown(shutdown);
  clock.pause();
  const runtime = runtimes[0]!;
  const master = new Probe('master', [ALLOCATOR_OFFERS, ALLOCATOR_UPDATE_AVAILABLE_RESULT]);
  runtime.spawn(master);
  const allocator = new AllocatorProcess({ master: master.self });
  runtime.spawn(allocator);
  const json = (x: Resources) => x.toJSON();
  master.send(allocator.self, ALLOCATOR_ADD_AGENT, { agent_id: 'a1', total: json(r('cpus:4;mem:1024')) });
  master.send(allocator.self, ALLOCATOR_ADD_FRAMEWORK, { framework_id: 'fb', roles: ['batch'], active: true });
  await runtime.settle();
  // fb holds the whole agent: nothing is free.
  const answers = () => master.bodies(ALLOCATOR_UPDATE_AVAILABLE_RESULT) as UpdateAvailableResult[];
  master.send(allocator.self, ALLOCATOR_UPDATE_AVAILABLE, { request_id: '1', agent_id: 'a1', conversions: [{ consumed: json(r('cpus:1')), converted: json(web('cpus:1')) }] });
  await runtime.settle();
  t.deepEqual(answers()[0], { request_id: '1', error: "{} does not contain 'cpus:1'" });

  master.send(allocator.self, 'Allocator.RecoverResources', { framework_id: 'fb', agent_id: 'a1', resources: json(r('cpus:4;mem:1024')), refuse_seconds: 1000 });
  master.send(allocator.self, ALLOCATOR_UPDATE_AVAILABLE, { request_id: '2', agent_id: 'a1', conversions: [{ consumed: json(r('cpus:1')), converted: json(web('cpus:1')) }] });
  master.send(allocator.self, ALLOCATOR_UPDATE_AVAILABLE, { request_id: '3', agent_id: 'zz', conversions: [] });
  master.send(allocator.self, ALLOCATOR_UPDATE_AVAILABLE, { request_id: '4', agent_id: 'a1', conversions: [{ consumed: 'x' }] });
  master.send(allocator.self, ALLOCATOR_UPDATE_ALLOCATION, { framework_id: 'fb', agent_id: 'a1', conversions: [{ consumed: json(r('cpus:1')), converted: json(web('cpus:1')) }] });
  await runtime.settle();
  t.deepEqual(answers()[1], { request_id: '2' });
  t.deepEqual(answers()[2], { request_id: '3', error: "unknown agent 'zz'" });
  t.regex(answers()[3]!.error!, /'conversions\[0\]\.consumed' must be an array/);
  t.true(allocator.allocation.agent('a1')!.total.equals(r('cpus:3;mem:1024').plus(web('cpus:1'))), 'only the valid one applied; the update of what fb no longer holds was ignored');
});
