import test from 'ava';
import { InvalidResourceError } from '../../src/errors.ts';
import { applyCheckpointedResources, checkpointedPart, popReservation, volumeConversion } from '../../src/mesos/resource-conversions.ts';
import { Resources } from '../../src/mesos/resources.ts';

/**
 * Persistent volumes in the resource model (Mesos's `Resource.DiskInfo` and `Resources`'s
 * `addable`/`subtractable`): their text and JSON forms, each volume an entry of its own, a
 * volume contained only in itself, and what an agent checkpoints.
 */

const WEB = 'disk(reservations: [(DYNAMIC,web,ops)])';
const r = (text: string) => Resources.parse(text);

test('volumes - the text form: [id:path], with ,principal and :ro; printed as parsed', (t) => {
  const text = `cpus:1;${WEB}:36;${WEB}[vol1,ops:data]:64;disk(web)[v2:logs/app:ro]:10`;
  const resources = r(text);
  t.is(resources.toString(), text);
  t.is(resources.size, 4);
  const [, , one, two] = resources.entries();
  t.deepEqual(one!.disk, { persistence: { id: 'vol1', principal: 'ops' }, volume: { container_path: 'data', mode: 'RW' } });
  t.deepEqual(two!.disk, { persistence: { id: 'v2' }, volume: { container_path: 'logs/app', mode: 'RO' } });
  t.deepEqual(two!.reservations, [{ type: 'STATIC', role: 'web' }]);
  t.true(r(`${WEB}[a:b:rw]:1`).equals(r(`${WEB}[a:b]:1`)), ':rw is the default');
  t.is(resources.disk(), 110, 'volumes are disk');
});

test('volumes - the v1 JSON form: disk.persistence and disk.volume, read back to the same resources', (t) => {
  const resources = r(`${WEB}[vol1,ops:data]:64;disk(web)[v2:logs:ro]:10`);
  const json = JSON.parse(JSON.stringify(resources.toJSON()));
  t.deepEqual(json[0].disk, { persistence: { id: 'vol1', principal: 'ops' }, volume: { container_path: 'data', mode: 'RW' } });
  t.deepEqual(json[1].disk, { persistence: { id: 'v2' }, volume: { container_path: 'logs', mode: 'RO' } });
  t.true(Resources.fromJSON(json).equals(resources));
  // Mesos's legacy form (`role`, `reservation`) and a volume without its mode (RW).
  const legacy = Resources.fromJSON([{ name: 'disk', type: 'SCALAR', scalar: { value: 64 }, role: 'web', reservation: { principal: 'ops' }, disk: { persistence: { id: 'vol1', principal: 'ops' }, volume: { container_path: 'data' } } }]);
  t.true(legacy.equals(r(`disk(reservations: [(DYNAMIC,web,ops)])[vol1,ops:data]:64`)));
  t.is(String(Resources.fromJSON([{ name: 'disk', type: 'SCALAR', scalar: { value: 1 }, disk: {} }])), 'disk:1', 'an empty DiskInfo is none');
});

test('volumes - each volume is its own entry: never merged with disk or another volume; contained only in itself, whole', (t) => {
  const disk = r(`${WEB}:100`);
  const a = r(`${WEB}[a:data]:64`);
  const b = r(`${WEB}[b:data]:64`);
  const all = disk.plus(a).plus(b);
  t.is(all.size, 3);
  t.is(all.disk(), 228);
  t.true(all.contains(a));
  t.false(all.contains(r(`${WEB}[a:data]:32`)), 'not a part of a volume');
  t.false(all.contains(r(`${WEB}[a:other]:64`)), 'not the same volume at another path');
  t.false(all.contains(r(`${WEB}[a,mallory:data]:64`)), 'nor by another principal');
  t.false(disk.contains(a), 'disk does not hold a volume of it');
  t.false(a.contains(r(`${WEB}:1`)), 'nor a volume plain disk');
  t.true(all.minus(r(`${WEB}[a:data]:32`)).equals(all), 'a part subtracts nothing');
  t.true(all.minus(a).equals(disk.plus(b)));
  t.true(all.persistentVolumes().equals(a.plus(b)));
  t.true(all.withoutVolumes().equals(r(`${WEB}:228`)));
  t.true(all.flatten().equals(r('disk:228')));
  t.true(all.reserved('web').equals(all));
  t.true(all.allocatableTo('web').equals(all));
  t.true(all.allocatableTo('db').isEmpty());
});

test('volumes - bad volumes are refused naming the part', (t) => {
  const bad = (input: string | unknown[], message: RegExp) => {
    t.throws(() => (typeof input === 'string' ? Resources.parse(input) : Resources.fromJSON(input)), { instanceOf: InvalidResourceError, message });
  };
  bad('cpus[a:b]:1', /DiskInfo should not be set for 'cpus' resource/);
  bad('disk[a/b:c]:1', /persistence id 'a\/b' must not contain '\/'/);
  bad('disk[..:c]:1', /persistence id '\.\.' is disallowed/);
  bad('disk[a:b:x]:1', /persistent volume mode must be 'ro' or 'rw', got 'x'/);
  bad('disk[a]:1', /must be written '\[id\[,principal\]:container_path\[:ro\]\]'/);
  bad('disk[a:b:1', /'\[' of the persistent volume is not closed/);
  bad(`${WEB}[a:b]:1;${WEB}[a:b]:2`, /persistent volume 'a' is given twice/);
  const json = (disk: unknown, name = 'disk', extra: object = {}) => [{ name, type: 'SCALAR', scalar: { value: 1 }, disk, ...extra }];
  bad(json({ persistence: { id: 'a' } }), /resources\[0\]\.disk: Expecting 'volume' to be set for persistent volume/);
  bad(json({ volume: { container_path: 'a' } }), /resources\[0\]\.disk: Non-persistent volume not supported/);
  bad(json({ persistence: { id: 'a' }, volume: { container_path: 'a', host_path: '/x' } }), /Expecting 'host_path' to be unset for persistent volume/);
  bad(json({ source: { type: 'PATH' } }), /resources\[0\]\.disk\.source is not supported/);
  bad(json({ persistence: { id: 7 }, volume: { container_path: 'a' } }), /resources\[0\]\.disk\.persistence\.id must be a string, got 7/);
  bad(json({ persistence: { id: 'a' }, volume: { container_path: 'a', mode: 'RX' } }), /resources\[0\]\.disk\.volume\.mode must be RW or RO, got "RX"/);
  bad(json({ persistence: { id: 'a' }, volume: { container_path: 'my data' } }), /container_path 'my data' must not contain whitespace/);
  bad(json({ persistence: { id: 'a' }, volume: { container_path: 'a' } }, 'mem'), /DiskInfo should not be set for 'mem' resource/);
  bad([{ name: 'disk', type: 'RANGES', ranges: { range: [{ begin: 1, end: 2 }] }, disk: { persistence: { id: 'a' }, volume: { container_path: 'a' } } }], /a persistent volume must be a SCALAR, got RANGES/);
  bad(json('x'), /resources\[0\]\.disk must be a DiskInfo object, got "x"/);
});

test('volumes - conversions: CREATE and DESTROY; an agent checkpoints its volumes, also those of static reservations, and its total holds them', (t) => {
  const vol = r(`${WEB}[vol1,ops:data]:64`);
  const create = volumeConversion('CREATE', vol);
  t.true(create.consumed.equals(r(`${WEB}:64`)));
  t.true(create.converted.equals(vol));
  const destroy = volumeConversion('DESTROY', vol);
  t.true(destroy.consumed.equals(vol) && destroy.converted.equals(r(`${WEB}:64`)));

  const onStatic = r('disk(web)[s:static]:10');
  const total = r('cpus:4;disk:100;disk(web):50').minus(r('disk:64;disk(web):10')).plus(vol).plus(onStatic);
  t.true(checkpointedPart(total).equals(vol.plus(onStatic)), 'volumes are checkpointed, whatever their reservation');
  const applied = applyCheckpointedResources(r('cpus:4;disk:100;disk(web):50'), vol.plus(onStatic));
  t.true(typeof applied !== 'string' && applied.equals(total), String(applied));
  t.is(applyCheckpointedResources(r('cpus:4;disk:10'), vol), "Incompatible agent resources: 'cpus:4;disk:10' does not contain 'disk:64'");
  t.true(popReservation(vol).persistentVolumes().size === 1, 'a popped reservation keeps the volume');
});
