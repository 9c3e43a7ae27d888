import test from 'ava';

import {
  commandShell,
  DEFAULT_REFUSE_SECONDS,
  executor,
  failoverTimeoutSeconds,
  frameworkRoles,
  InvalidMessageError,
  isBase64,
  isTerminalState,
  parseExecutorCall,
  parseExecutorEvent,
  parseSchedulerCall,
  parseSchedulerEvent,
  refuseSeconds,
  scheduler,
  TASK_STATES,
  TASK_STATUS_REASONS,
  TaskInfoSchema,
  type TaskState,
} from '../../src/mesos/v1/index.ts';
import {
  AGENT_ID,
  EXECUTOR_ID,
  executorCalls,
  executorEvents,
  FRAMEWORK_ID,
  OPAQUE_KEYS,
  schedulerCalls,
  schedulerEvents,
  taskInfo,
  taskStatus,
  UUID,
} from './v1-fixtures.ts';

type Parser = (json: unknown) => unknown;

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

function invalid(t: import('ava').ExecutionContext, parse: Parser, json: unknown): InvalidMessageError {
  const error = t.throws(() => parse(json), { instanceOf: InvalidMessageError });
  if (error === undefined) throw new Error('expected InvalidMessageError');
  return error;
}

// ---------------------------------------------------------------------------------------------
// Examples from the Mesos scheduler HTTP API docs (docs/scheduler-http-api.md), byte for byte
// where they are valid JSON; `{...}` placeholders filled in.

const DOCS_SUBSCRIBE = `{
   "type"		: "SUBSCRIBE",
   "subscribe"	: {
      "framework_info"	: {
        "user" :  "foo",
        "name" :  "Example HTTP Framework",
        "roles": ["test1", "test2"],
        "capabilities" : [{"type": "MULTI_ROLE"}]
      },
      "suppressed_roles" : ["test2"],
      "offer_constraints" : {
        "role_constraints": {
          "test1": {
            "groups": [{
              "attribute_constraints": [{
                "selector": {"attribute_name": "foo"},
                "predicate": {"exists": {}}
              }]
            }]
          }
        }
      }
   }
}`;

// The 0.24 docs' SUBSCRIBE carried a `force` flag that the proto never had.
const DOCS_SUBSCRIBE_OLD = `{
   "type"		: "SUBSCRIBE",

   "subscribe"	: {
      "framework_info"	: {
        "user" :  "foo",
        "name" :  "Example HTTP Framework"
      },

      "force" : true
  }
}`;

const DOCS_ACCEPT = `{
  "framework_id": {"value": "12220-3440-12532-2345"},
  "type": "ACCEPT",
  "accept": {
    "offer_ids": [
      {"value": "12220-3440-12532-O12"}
    ],
    "operations": [
      {
        "type": "LAUNCH",
        "launch": {
          "task_infos": [
            {
              "name": "My Task",
              "task_id": {"value": "12220-3440-12532-my-task"},
              "agent_id": {"value": "12220-3440-12532-S1233"},
              "executor": {
                "command": {
                  "shell": true,
                  "value": "sleep 1000"
                },
                "executor_id": {"value": "12214-23523-my-executor"}
              },
              "resources": [
                {
                  "allocation_info": {"role": "engineering"},
                  "name": "cpus",
                  "role": "*",
                  "type": "SCALAR",
                  "scalar": {"value": 1.0}
				        }, {
                  "allocation_info": {"role": "engineering"},
                  "name": "mem",
                  "role": "*",
                  "type": "SCALAR",
                  "scalar": {"value": 128.0}
				        }
              ],
              "limits": {
                "cpus": "Infinity",
                "mem": 512.0
              }
            }
          ]
        }
      }
    ],
    "filters": {"refuse_seconds": 5.0}
  }
}`;

const DOCS_UPDATE = `{
  "type"	: "UPDATE",
  "update"	: {
    "status"	: {
        "task_id"	: { "value" : "12344-my-task"},
        "state"		: "TASK_RUNNING",
        "source"	: "SOURCE_EXECUTOR",
        "uuid"		: "adfadfadbhgvjayd23r2uahj",
        "bytes"		: "uhdjfhuagdj63d7hadkf"
      }
  }
}`;

test('docs - SUBSCRIBE example parses', (t) => {
  const call = parseSchedulerCall(JSON.parse(DOCS_SUBSCRIBE));
  if (call.type !== 'SUBSCRIBE') return t.fail();
  t.is(call.framework_id, undefined);
  t.is(call.subscribe.framework_info.user, 'foo');
  t.is(call.subscribe.framework_info.name, 'Example HTTP Framework');
  t.deepEqual(call.subscribe.framework_info.roles, ['test1', 'test2']);
  t.deepEqual(call.subscribe.framework_info.capabilities, [{ type: 'MULTI_ROLE' }]);
  t.deepEqual(call.subscribe.suppressed_roles, ['test2']);
  t.truthy(call.subscribe.offer_constraints?.role_constraints);
});

test('docs - old SUBSCRIBE example parses and keeps its force flag (Mesos\'s optional `Call.Subscribe.force`)', (t) => {
  const call = parseSchedulerCall(JSON.parse(DOCS_SUBSCRIBE_OLD));
  t.deepEqual(call, { type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'foo', name: 'Example HTTP Framework' }, force: true } });
});

test('docs - ACCEPT example parses', (t) => {
  const call = parseSchedulerCall(JSON.parse(DOCS_ACCEPT));
  t.deepEqual(call, JSON.parse(DOCS_ACCEPT));
  if (call.type !== 'ACCEPT') return t.fail();
  t.is(call.framework_id.value, '12220-3440-12532-2345');
  const op = call.accept.operations?.[0];
  if (op?.type !== 'LAUNCH') return t.fail();
  const task = op.launch.task_infos?.[0];
  t.is(task?.agent_id.value, '12220-3440-12532-S1233');
  t.is(task?.resources?.[1]?.scalar?.value, 128);
  t.deepEqual(task?.limits, { cpus: 'Infinity', mem: 512 });
  t.is(refuseSeconds(call.accept.filters), 5);
});

test('docs - UPDATE event example parses and its unknown bytes field is dropped', (t) => {
  const event = parseSchedulerEvent(JSON.parse(DOCS_UPDATE));
  if (event.type !== 'UPDATE') return t.fail();
  t.deepEqual(event.update.status, {
    task_id: { value: '12344-my-task' },
    state: 'TASK_RUNNING',
    source: 'SOURCE_EXECUTOR',
    uuid: 'adfadfadbhgvjayd23r2uahj',
  });
});

test('docs - the other call examples parse', (t) => {
  const fw = '"framework_id"\t: {"value" : "12220-3440-12532-2345"}';
  const examples = [
    `{${fw},\n  "type"\t\t\t: "TEARDOWN"\n}`,
    `{${fw}, "type": "DECLINE", "decline": {"offer_ids": [{"value" : "12220-3440-12532-O12"}, {"value" : "12220-3440-12532-O13"}], "filters": {"refuse_seconds" : 5.0}}}`,
    `{${fw}, "type": "KILL", "kill": {"task_id": {"value" : "12220-3440-12532-my-task"}, "agent_id": {"value" : "12220-3440-12532-S1233"}}}`,
    `{${fw}, "type": "SHUTDOWN", "shutdown": {"executor_id": {"value" : "123450-2340-1232-my-executor"}, "agent_id": {"value" : "12220-3440-12532-S1233"}}}`,
    `{${fw}, "type": "ACKNOWLEDGE", "acknowledge": {"agent_id": {"value" : "12220-3440-12532-S1233"}, "task_id": {"value" : "12220-3440-12532-my-task"}, "uuid": "jhadf73jhakdlfha723adf"}}`,
    `{${fw}, "type": "RECONCILE", "reconcile": {"tasks": [{ "task_id": {"value" : "312325"}, "agent_id": {"value" : "123535"}}]}}`,
    `{${fw}, "type": "MESSAGE", "message": {"agent_id": {"value" : "12220-3440-12532-S1233"}, "executor_id": {"value" : "my-framework-executor"}, "data": "adaf838jahd748jnaldf"}}`,
    `{${fw}, "type": "REVIVE", "revive": {"roles": ["engineering"]}}`,
    `{${fw}, "type": "SUPPRESS", "suppress": {"roles": ["engineering"]}}`,
  ];
  for (const text of examples) {
    const json: unknown = JSON.parse(text);
    t.deepEqual(parseSchedulerCall(json), json, text);
  }
});

test('docs - the other event examples parse', (t) => {
  const examples = [
    `{"type": "SUBSCRIBED", "subscribed": {"framework_id": {"value":"12220-3440-12532-2345"}, "heartbeat_interval_seconds" : 15}}`,
    `{"type": "OFFERS", "offers": [{"allocation_info": { "role": "engineering" }, "id": {"value": "12214-23523-O235235"}, "framework_id": {"value": "12124-235325-32425"}, "agent_id": {"value": "12325-23523-S23523"}, "hostname": "agent.host", "resources": [{"allocation_info": { "role": "engineering" }, "name": "cpus", "type": "SCALAR", "scalar": {"value" : 2}, "role": "*"}], "attributes": [{"name": "os", "type": "TEXT", "text": {"value" : "ubuntu16.04"}}], "executor_ids": [{"value" : "12214-23523-my-executor"}]}]}`,
    `{"type": "RESCIND", "rescind": {"offer_id": { "value" : "12214-23523-O235235"}}}`,
    `{"type": "MESSAGE", "message": {"agent_id": { "value" : "12214-23523-S235235"}, "executor_id": { "value" : "12214-23523-my-executor"}, "data": "adfadf3t2wa3353dfadf"}}`,
    `{"type": "FAILURE", "failure": {"agent_id": { "value" : "12214-23523-S235235"}, "executor_id": { "value" : "12214-23523-my-executor"}, "status": 1}}`,
    `{"type": "HEARTBEAT"}`,
  ];
  for (const text of examples) {
    const json = JSON.parse(text) as { type: string; offers?: unknown };
    // The docs list offers directly under `offers`; the proto nests them: `offers.offers`.
    if (json.type === 'OFFERS') json.offers = { offers: json.offers };
    t.deepEqual(parseSchedulerEvent(json), json, text);
  }
});

test('docs - ERROR is read as the proto has it, not as the docs print it', (t) => {
  // The docs show `{"type": "ERROR", "message": ...}`; masters send `error.message`.
  const event = parseSchedulerEvent({ type: 'ERROR', error: { message: 'Framework is not authorized' } });
  t.deepEqual(event, { type: 'ERROR', error: { message: 'Framework is not authorized' } });
  t.is(
    invalid(t, parseSchedulerEvent, { type: 'ERROR', message: 'Framework is not authorized' }).message,
    "invalid event: 'error' is required for an event of type ERROR",
  );
});

// ---------------------------------------------------------------------------------------------
// Round trips: every field the schemas know survives a parse. A field misspelled in a schema
// would be dropped as unknown and fail here.

const suites: [string, Parser, Record<string, unknown>, readonly string[]][] = [
  ['scheduler call', parseSchedulerCall, schedulerCalls, scheduler.CALL_TYPES],
  ['scheduler event', parseSchedulerEvent, schedulerEvents, scheduler.EVENT_TYPES],
  ['executor call', parseExecutorCall, executorCalls, executor.CALL_TYPES],
  ['executor event', parseExecutorEvent, executorEvents, executor.EVENT_TYPES],
];

for (const [name, parse, fixtures, types] of suites) {
  test(`round trip - every ${name} type keeps every field`, (t) => {
    t.deepEqual(Object.keys(fixtures).sort(), [...types].sort());
    for (const [type, fixture] of Object.entries(fixtures)) {
      const json = clone(fixture);
      t.deepEqual(parse(json), json, type);
      t.deepEqual(parse(JSON.parse(JSON.stringify(parse(json)))), json, type);
    }
  });
}

test('round trip - unknown fields are dropped at every level', (t) => {
  const json = clone(schedulerCalls.KILL) as Record<string, unknown> & { kill: Record<string, unknown> };
  json.future_field = 1;
  json.kill.also_new = { x: 1 };
  json.decline = { offer_ids: [] }; // a payload of another type rides along
  t.deepEqual(parseSchedulerCall(json), schedulerCalls.KILL);
});

test('round trip - an uninterpreted ContainerInfo is kept whole', (t) => {
  const parsed = TaskInfoSchema.parse(clone(taskInfo));
  t.deepEqual(parsed.container, taskInfo.container);
  t.deepEqual(parsed.executor?.container, taskInfo.executor.container);
});

// ---------------------------------------------------------------------------------------------
// Every validator error names the field and the value.

type Leaf = { path: (string | number)[]; value: string | number | boolean };

function leaves(value: unknown, path: (string | number)[] = []): Leaf[] {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, [...path, i]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => (OPAQUE_KEYS.has(k) ? [] : leaves(v, [...path, k])));
  }
  return [];
}

function setAt(root: unknown, path: (string | number)[], value: unknown): void {
  let cur = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) cur = cur[key] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (last !== undefined) cur[last] = value;
}

const formatPath = (path: (string | number)[]): string =>
  path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');

/** A value of the wrong JSON type for a leaf, and how the error message shows it. */
function wrong(value: string | number | boolean): [unknown, string] {
  if (typeof value === 'string') return [true, 'got true'];
  if (typeof value === 'number') return ['x', "got 'x'"];
  return ['yes', "got 'yes'"];
}

for (const [name, parse, fixtures] of suites) {
  test(`errors - a wrongly typed field of any ${name} is named with its value`, (t) => {
    let checked = 0;
    for (const fixture of Object.values(fixtures)) {
      for (const leaf of leaves(fixture)) {
        const json = clone(fixture);
        const [bad, shown] = wrong(leaf.value);
        setAt(json, leaf.path, bad);
        const path = formatPath(leaf.path);
        const error = t.throws(() => parse(json), { instanceOf: InvalidMessageError }, path);
        t.true(error?.message.includes(`'${path}'`), `${path}: ${error?.message}`);
        t.true(error?.message.endsWith(shown), `${path}: ${error?.message}`);
        t.is(error?.field, path);
        checked++;
      }
    }
    t.true(checked > 20);
  });
}

test('errors - the example from the brief', (t) => {
  const json = clone(schedulerCalls.ACCEPT) as { accept: { offer_ids: { value: unknown }[] } };
  const first = json.accept.offer_ids[0];
  if (first !== undefined) first.value = 42;
  const error = invalid(t, parseSchedulerCall, json);
  t.is(error.message, "invalid call: 'accept.offer_ids[0].value' must be a string, got 42");
  t.is(error.name, 'InvalidMessageError');
  t.deepEqual(error.issues[0], {
    path: 'accept.offer_ids[0].value',
    message: "'accept.offer_ids[0].value' must be a string, got 42",
    value: 42,
  });
});

test('errors - a call that is not an object', (t) => {
  t.is(invalid(t, parseSchedulerCall, 'ACCEPT').message, "invalid call: the call must be an object, got 'ACCEPT'");
  t.is(invalid(t, parseSchedulerCall, null).message, 'invalid call: the call must be an object, got null');
  t.is(invalid(t, parseExecutorCall, [1]).message, 'invalid call: the call must be an object, got an array');
});

test('errors - a missing or unknown type', (t) => {
  t.is(invalid(t, parseSchedulerCall, { framework_id: FRAMEWORK_ID }).message, "invalid call: 'type' is required");
  const unknown = invalid(t, parseSchedulerCall, { type: 'LAUNCH', framework_id: FRAMEWORK_ID });
  t.regex(unknown.message, /^invalid call: 'type' must be one of SUBSCRIBE, TEARDOWN, .*UPDATE_FRAMEWORK, got 'LAUNCH'$/);
  t.is(
    invalid(t, parseExecutorEvent, { type: 'UNKNOWN' }).message,
    "invalid event: 'type' must be one of SUBSCRIBED, LAUNCH, LAUNCH_GROUP, KILL, ACKNOWLEDGED, MESSAGE, SHUTDOWN, ERROR, HEARTBEAT, got 'UNKNOWN'",
  );
});

test('errors - an unknown enum value names the field', (t) => {
  const json = clone(schedulerEvents.UPDATE) as { update: { status: { state: string } } };
  json.update.status.state = 'TASK_SLEEPING';
  t.regex(
    invalid(t, parseSchedulerEvent, json).message,
    /^invalid event: 'update\.status\.state' must be one of TASK_STAGING, .*, got 'TASK_SLEEPING'$/,
  );
});

test('errors - bytes must be base64', (t) => {
  const json = clone(schedulerCalls.MESSAGE) as { message: { data: string } };
  json.message.data = 'not base64!';
  t.is(invalid(t, parseSchedulerCall, json).message, "invalid call: 'message.data' must be base64, got 'not base64!'");
});

test('errors - numbers out of the proto range name the bound', (t) => {
  const json = clone(schedulerEvents.FAILURE) as { failure: { status: number } };
  json.failure.status = 2 ** 40;
  t.is(
    invalid(t, parseSchedulerEvent, json).message,
    `invalid event: 'failure.status' must be <= 2147483647, got ${2 ** 40}`,
  );
  const offers = clone(schedulerEvents.OFFERS) as { offers: { offers: { resources: { ranges?: unknown }[] }[] } };
  const ports = offers.offers.offers[0]?.resources[1];
  if (ports !== undefined) ports.ranges = { range: [{ begin: -1, end: 10 }] };
  t.is(
    invalid(t, parseSchedulerEvent, offers).message,
    "invalid event: 'offers.offers[0].resources[1].ranges.range[0].begin' must be >= 0, got -1",
  );
});

test('errors - all issues are kept, the first is the message', (t) => {
  const error = invalid(t, parseSchedulerCall, { type: 'KILL', kill: { task_id: { value: 1 } } });
  t.deepEqual(
    error.issues.map((i) => i.message),
    ["'framework_id' is required for a call of type KILL", "'kill.task_id.value' must be a string, got 1"],
  );
  t.is(error.message, "invalid call: 'framework_id' is required for a call of type KILL");
});

// ---------------------------------------------------------------------------------------------
// Mesos's call validation, beyond the shape.

test('scheduler call - every type but SUBSCRIBE needs framework_id', (t) => {
  for (const type of scheduler.CALL_TYPES) {
    const json = clone(schedulerCalls[type]) as Record<string, unknown>;
    delete json.framework_id;
    if (type === 'SUBSCRIBE') {
      // Without `framework_id`, `framework_info.id` must be unset as well.
      const subscribe = json.subscribe as { framework_info: Record<string, unknown> };
      delete subscribe.framework_info.id;
      t.notThrows(() => parseSchedulerCall(json));
    } else {
      t.is(
        invalid(t, parseSchedulerCall, json).message,
        `invalid call: 'framework_id' is required for a call of type ${type}`,
      );
    }
  }
});

test('scheduler call - a call of type X must carry its payload x', (t) => {
  const optional = new Set(['TEARDOWN', 'REVIVE', 'SUPPRESS']);
  for (const type of scheduler.CALL_TYPES) {
    const key = type.toLowerCase();
    const json = clone(schedulerCalls[type]) as Record<string, unknown>;
    delete json[key];
    if (optional.has(type)) {
      t.notThrows(() => parseSchedulerCall(json), type);
    } else {
      t.is(invalid(t, parseSchedulerCall, json).message, `invalid call: '${key}' is required for a call of type ${type}`);
    }
  }
});

test('scheduler call - SUBSCRIBE needs framework_info with user and name', (t) => {
  const base = { type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'root', name: 'fw' } } };
  t.notThrows(() => parseSchedulerCall(base));
  t.is(
    invalid(t, parseSchedulerCall, { type: 'SUBSCRIBE', subscribe: {} }).message,
    "invalid call: 'subscribe.framework_info' is required",
  );
  t.is(
    invalid(t, parseSchedulerCall, { type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'fw' } } }).message,
    "invalid call: 'subscribe.framework_info.user' is required",
  );
  t.is(
    invalid(t, parseSchedulerCall, { type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'root', name: 7 } } })
      .message,
    "invalid call: 'subscribe.framework_info.name' must be a string, got 7",
  );
});

test('scheduler call - SUBSCRIBE framework_id must match framework_info.id', (t) => {
  const call = (callId?: string, infoId?: string) => ({
    type: 'SUBSCRIBE',
    ...(callId === undefined ? {} : { framework_id: { value: callId } }),
    subscribe: { framework_info: { user: 'root', name: 'fw', ...(infoId === undefined ? {} : { id: { value: infoId } }) } },
  });
  t.notThrows(() => parseSchedulerCall(call('a', 'a')));
  t.is(
    invalid(t, parseSchedulerCall, call('a', 'b')).message,
    "invalid call: 'subscribe.framework_info.id' must match 'framework_id' ({value: 'a'}), got {value: 'b'}",
  );
  t.is(
    invalid(t, parseSchedulerCall, call(undefined, 'b')).message,
    "invalid call: 'subscribe.framework_info.id' must match 'framework_id' (nothing), got {value: 'b'}",
  );
  t.is(
    invalid(t, parseSchedulerCall, call('a')).message,
    "invalid call: 'subscribe.framework_info.id' must match 'framework_id' ({value: 'a'}), got nothing",
  );
});

test('scheduler call - UPDATE_FRAMEWORK framework_info.id must match framework_id', (t) => {
  const json = clone(schedulerCalls.UPDATE_FRAMEWORK) as { update_framework: { framework_info: { id: unknown } } };
  json.update_framework.framework_info.id = { value: 'other' };
  t.regex(invalid(t, parseSchedulerCall, json).message, /'update_framework\.framework_info\.id' must match/);
});

test('scheduler call - ACKNOWLEDGE uuid must be 16 bytes', (t) => {
  const json = clone(schedulerCalls.ACKNOWLEDGE) as { acknowledge: { uuid: string } };
  json.acknowledge.uuid = 'AAAA';
  t.is(
    invalid(t, parseSchedulerCall, json).message,
    "invalid call: 'acknowledge.uuid' must be a base64 16-byte UUID, got 'AAAA'",
  );
  json.acknowledge.uuid = UUID.replace(/=+$/, ''); // unpadded is fine
  t.notThrows(() => parseSchedulerCall(json));
});

test('scheduler call - an operation of type X must carry its payload x', (t) => {
  const json = {
    type: 'ACCEPT',
    framework_id: FRAMEWORK_ID,
    accept: { offer_ids: [], operations: [{ type: 'RESERVE', reserve: {} }, { type: 'LAUNCH' }] },
  };
  t.is(
    invalid(t, parseSchedulerCall, json).message,
    "invalid call: 'accept.operations[1].launch' is required for type LAUNCH",
  );
});

test('scheduler call - a task needs name, task_id and agent_id; a resource needs name and type', (t) => {
  const task = { task_id: { value: 't' }, agent_id: AGENT_ID, resources: [{ name: 'cpus', scalar: { value: 1 } }] };
  const json = {
    type: 'ACCEPT',
    framework_id: FRAMEWORK_ID,
    accept: { operations: [{ type: 'LAUNCH', launch: { task_infos: [task] } }] },
  };
  const error = invalid(t, parseSchedulerCall, json);
  t.deepEqual(
    error.issues.map((i) => i.message),
    [
      "'accept.operations[0].launch.task_infos[0].name' is required",
      "'accept.operations[0].launch.task_infos[0].resources[0].type' is required",
    ],
  );
});

test('scheduler call - narrowing on type gives the payload', (t) => {
  const call = parseSchedulerCall(clone(schedulerCalls.DECLINE));
  switch (call.type) {
    case 'DECLINE':
      t.is(call.decline.offer_ids?.length, 1);
      t.is(refuseSeconds(call.decline.filters), 30);
      break;
    default:
      t.fail(call.type);
  }
});

test('executor call - every call needs executor_id and framework_id', (t) => {
  for (const type of executor.CALL_TYPES) {
    for (const key of ['executor_id', 'framework_id']) {
      const json = clone(executorCalls[type]) as Record<string, unknown>;
      delete json[key];
      t.is(invalid(t, parseExecutorCall, json).message, `invalid call: '${key}' is required for a call of type ${type}`);
    }
  }
});

test('executor call - SUBSCRIBE, UPDATE and MESSAGE carry their payload', (t) => {
  for (const type of ['SUBSCRIBE', 'UPDATE', 'MESSAGE'] as const) {
    const key = type.toLowerCase();
    const json = clone(executorCalls[type]) as Record<string, unknown>;
    delete json[key];
    t.is(invalid(t, parseExecutorCall, json).message, `invalid call: '${key}' is required for a call of type ${type}`);
  }
});

test('executor call - UPDATE is checked as the agent checks it', (t) => {
  const update = (status: Record<string, unknown>) => ({
    type: 'UPDATE',
    executor_id: EXECUTOR_ID,
    framework_id: FRAMEWORK_ID,
    update: { status: { ...taskStatus, ...status } },
  });
  t.notThrows(() => parseExecutorCall(update({})));
  const messages = (json: unknown) => invalid(t, parseExecutorCall, json).issues.map((i) => i.message);
  const { uuid: _uuid, ...withoutUuid } = taskStatus;
  t.deepEqual(messages({ ...update({}), update: { status: withoutUuid } }), [
    "'update.status.uuid' is required for an UPDATE from an executor",
  ]);
  t.deepEqual(messages(update({ uuid: 'AAAA' })), ["'update.status.uuid' must be a base64 16-byte UUID, got 'AAAA'"]);
  t.deepEqual(messages(update({ source: 'SOURCE_AGENT' })), [
    "'update.status.source' must be SOURCE_EXECUTOR, got 'SOURCE_AGENT'",
  ]);
  t.deepEqual(messages(update({ state: 'TASK_STAGING' })), [
    "'update.status.state' must not be TASK_STAGING, got 'TASK_STAGING'",
  ]);
  t.deepEqual(messages(update({ executor_id: { value: 'someone-else' } })), [
    "'update.status.executor_id.value' must match 'executor_id.value' ('web-executor'), got 'someone-else'",
  ]);
});

test('executor event - ACKNOWLEDGED uuid must be 16 bytes', (t) => {
  const json = clone(executorEvents.ACKNOWLEDGED) as { acknowledged: { uuid: string } };
  json.acknowledged.uuid = 'AAAAAAAA';
  t.is(
    invalid(t, parseExecutorEvent, json).message,
    "invalid event: 'acknowledged.uuid' must be a base64 16-byte UUID, got 'AAAAAAAA'",
  );
});

test('safeParse - returns the error instead of throwing', (t) => {
  const ok = scheduler.safeParseCall(clone(schedulerCalls.TEARDOWN));
  t.true(ok.ok);
  const bad = executor.safeParseEvent({ type: 'LAUNCH' });
  t.false(bad.ok);
  if (!bad.ok) t.is(bad.error.message, "invalid event: 'launch' is required for an event of type LAUNCH");
});

// ---------------------------------------------------------------------------------------------
// Task states, defaults, helpers.

test('task states - isTerminalState follows Mesos', (t) => {
  const terminal: TaskState[] = [
    'TASK_FINISHED',
    'TASK_FAILED',
    'TASK_KILLED',
    'TASK_LOST',
    'TASK_ERROR',
    'TASK_DROPPED',
    'TASK_GONE',
    'TASK_GONE_BY_OPERATOR',
  ];
  t.is(TASK_STATES.length, 14);
  for (const state of TASK_STATES) t.is(isTerminalState(state), terminal.includes(state), state);
});

test('task states - the reason list is the full v1 list', (t) => {
  t.is(TASK_STATUS_REASONS.length, 35);
  for (const reason of [
    'REASON_COMMAND_EXECUTOR_FAILED',
    'REASON_EXECUTOR_TERMINATED',
    'REASON_AGENT_REMOVED',
    'REASON_AGENT_DISCONNECTED',
    'REASON_INVALID_OFFERS',
    'REASON_TASK_INVALID',
    'REASON_RECONCILIATION',
    'REASON_FRAMEWORK_REMOVED',
    'REASON_TASK_KILLED_DURING_LAUNCH',
    'REASON_EXECUTOR_REGISTRATION_TIMEOUT',
    'REASON_CONTAINER_LAUNCH_FAILED',
  ] as const) {
    t.true(TASK_STATUS_REASONS.includes(reason), reason);
  }
});

test('defaults - refuse_seconds and shell read as Mesos reads them', (t) => {
  t.is(DEFAULT_REFUSE_SECONDS, 5);
  t.is(refuseSeconds(undefined), 5);
  t.is(refuseSeconds({}), 5);
  t.is(refuseSeconds({ refuse_seconds: -1 }), 5);
  t.is(refuseSeconds({ refuse_seconds: 0 }), 0);
  t.is(refuseSeconds({ refuse_seconds: 1e9 }), 31536000);
  t.true(commandShell({ value: 'ls' }));
  t.false(commandShell({ shell: false, value: '/bin/ls' }));
  t.is(failoverTimeoutSeconds({ user: 'u', name: 'n' }), 0);
  t.is(failoverTimeoutSeconds({ user: 'u', name: 'n', failover_timeout: 60 }), 60);
});

test('defaults - framework roles as Mesos reads them', (t) => {
  t.deepEqual(frameworkRoles({ user: 'u', name: 'n' }), ['*']);
  t.deepEqual(frameworkRoles({ user: 'u', name: 'n', role: 'web', roles: ['x'] }), ['web']);
  t.deepEqual(
    frameworkRoles({ user: 'u', name: 'n', role: 'web', roles: ['a', 'b'], capabilities: [{ type: 'MULTI_ROLE' }] }),
    ['a', 'b'],
  );
});

test('base64 - both alphabets, padding optional', (t) => {
  for (const ok of ['', 'AA', 'AA==', 'AAA', 'AAA=', 'AAAA', 'a+/b', 'a-_b', UUID]) t.true(isBase64(ok), ok);
  for (const bad of ['A', 'AAAAA', 'A=', 'AA=', 'AA===', 'AAA==', '!!!!', 'AA AA']) t.false(isBase64(bad), bad);
});
