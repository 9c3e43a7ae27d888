import test from 'ava';
import { reserveConversions, unreserveConversions } from '../../actors/master/reservations.ts';
import { FrameworkRecord } from '../../actors/master/state.ts';
import {
  applyCheckpointedResources,
  applyConversions,
  checkpointedPart,
  popReservation,
} from '../../src/mesos/resource-conversions.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { FrameworkInfo } from '../../src/mesos/v1/common.ts';

/**
 * Reservations as resource conversions (`src/mesos/resource-conversions.ts`), and the master's
 * checks of RESERVE and UNRESERVE (`actors/master/reservations.ts`), each reason on its own.
 */

const r = (text: string) => Resources.parse(text);
const web = (text: string, principal = 'ops') =>
  r(text.split(';').map((part) => part.replace(':', `(reservations: [(DYNAMIC,web,${principal})]):`)).join(';'));

function framework(info: Partial<FrameworkInfo> = {}): FrameworkRecord {
  return new FrameworkRecord('f1', { user: 'u', name: 'n', role: 'web', principal: 'ops', ...info }, 0);
}

test('conversions - popReservation removes the last level only; unreserved entries stay', (t) => {
  t.is(String(popReservation(web('cpus:2'))), 'cpus:2');
  t.is(String(popReservation(r('cpus(reservations: [(STATIC,eng),(DYNAMIC,eng/web)]):1;mem:5'))), 'cpus(eng):1;mem:5');
});

test('conversions - applied in order; one whose consumed is not there says so', (t) => {
  const total = r('cpus:4;mem:1024');
  const reserved = applyConversions(total, [{ consumed: r('cpus:2'), converted: web('cpus:2') }, { consumed: web('cpus:1'), converted: r('cpus:1') }]);
  t.is(String(reserved), String(r('cpus:3;mem:1024').plus(web('cpus:1'))));
  t.is(applyConversions(total, [{ consumed: r('cpus:5'), converted: web('cpus:5') }]), "'cpus:4;mem:1024' does not contain 'cpus:5'");
});

test('conversions - an agent total is its flag resources with the checkpointed ones in place of what they reserve', (t) => {
  const checkpointed = web('cpus:1').plus(r('mem(reservations: [(STATIC,eng),(DYNAMIC,eng/web)]):64'));
  const total = applyCheckpointedResources(r('cpus:2;mem(eng):128;mem:64'), checkpointed);
  t.is(String(total), String(r('cpus:1;mem(eng):64;mem:64').plus(checkpointed)));
  t.true(checkpointedPart(total as Resources).equals(checkpointed), 'and the checkpointed part of that total is what was checkpointed');
  t.regex(applyCheckpointedResources(r('cpus:2'), web('cpus:3')) as string, /^Incompatible agent resources: 'cpus:2' does not contain 'cpus:3'$/);
  t.regex(applyCheckpointedResources(r('cpus:2'), r('cpus(web):1')) as string, /^Unexpected checkpointed resources 'cpus\(web\):1'/);
  t.regex(applyCheckpointedResources(r('mem:64'), r('mem(reservations: [(STATIC,eng),(DYNAMIC,eng/web)]):64')) as string, /does not contain 'mem\(eng\):64'/, 'a refinement of a static reservation needs that reservation');
});

test('reserve validation - each reason, in Mesos words where it has them', (t) => {
  const requester = { framework: framework(), offerRoles: ['web'] };
  const check = (resources: Resources | unknown[]) => reserveConversions({ resources: resources instanceof Resources ? resources.toJSON() : resources }, requester);
  t.is(check(r('cpus:1')), "Resource 'cpus:1' is not dynamically reserved");
  t.is(check(r('cpus(web):1')), "Resource 'cpus(web):1' is not dynamically reserved");
  t.regex(check(web('cpus:1', 'mallory')) as string, /^A reserve operation was attempted by principal 'ops', but there is a reserved resource in the request with principal 'mallory'/);
  t.regex(check(r('cpus(reservations: [(DYNAMIC,web)]):1')) as string, /with no principal set in 'ReservationInfo'$/);
  t.regex(check(r('cpus(reservations: [(DYNAMIC,other,ops)]):1')) as string, /for a resource with role 'other', but the framework can only reserve resources with roles \{ web \}$/);
  t.regex(check([{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, reservations: [{ type: 'DYNAMIC', role: '*' }] }]) as string, /^Invalid resources: .*reservation role must not be '\*'/);
  t.is(check([]), "Invalid resources: 'resources' must not be empty");
  const multi = framework({ role: undefined, roles: ['web', 'db'], capabilities: [{ type: 'MULTI_ROLE' }] });
  t.regex(reserveConversions({ resources: r('cpus(reservations: [(DYNAMIC,db,ops)]):1').toJSON() }, { framework: multi, offerRoles: ['web'] }) as string, /role 'db', but the offered resources are allocated to \{ web \}$/);
  const ok = check(web('cpus:1;mem:8'));
  t.deepEqual(Array.isArray(ok) && ok.map((c) => [String(c.consumed), String(c.converted), c.role]), [['cpus:1;mem:8', String(web('cpus:1;mem:8')), 'web']]);
});

test('reserve validation - the operator reserves under any principal; a source must be the same resources', (t) => {
  const ok = reserveConversions({ resources: web('cpus:1', 'anyone').toJSON() }, {});
  t.true(Array.isArray(ok));
  const moved = reserveConversions({ source: r('cpus(reservations: [(DYNAMIC,old)]):1').toJSON(), resources: web('cpus:1').toJSON() }, {});
  t.deepEqual(Array.isArray(moved) && moved.map((c) => String(c.consumed)), ['cpus(reservations: [(DYNAMIC,old)]):1'], 'source is what it takes');
  t.regex(reserveConversions({ source: r('cpus:2').toJSON(), resources: web('cpus:1').toJSON() }, {}) as string, /^The source resources 'cpus:2' must be the resources to reserve/);
  t.regex(reserveConversions({ source: [{ name: 'cpus' }], resources: web('cpus:1').toJSON() }, {}) as string, /^Invalid source: /);
});

test('unreserve validation - dynamically reserved only; it gives back one level', (t) => {
  t.is(unreserveConversions({ resources: r('cpus:1').toJSON() }), "Resource 'cpus:1' is not dynamically reserved");
  t.is(unreserveConversions({ resources: r('cpus(web):1').toJSON() }), "Resource 'cpus(web):1' is not dynamically reserved");
  const ok = unreserveConversions({ resources: web('cpus:1').toJSON() });
  t.deepEqual(Array.isArray(ok) && ok.map((c) => String(c.converted)), ['cpus:1']);
});
