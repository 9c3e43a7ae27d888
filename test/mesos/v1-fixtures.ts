/**
 * Fixtures for the v1 wire-shape tests: one "kitchen sink" message per call and event type,
 * setting every field the schemas know, so a field misspelled in a schema (and so dropped when
 * parsing) fails the round-trip test. Values look like a real cluster's.
 */

import type {
  AgentInfo,
  Attribute,
  CommandInfo,
  ExecutorInfo,
  FrameworkInfo,
  MasterInfo,
  Offer,
  Operation,
  Resource,
  TaskInfo,
  TaskStatus,
  executor,
  scheduler,
} from '../../src/mesos/v1/index.ts';

export const MASTER = '7f5c2a3e-9b1d-4e8f-a2c4-6d0b1e3f5a79';
export const FRAMEWORK_ID = { value: `${MASTER}-0000` };
export const AGENT_ID = { value: `${MASTER}-S0` };
export const OFFER_ID = { value: `${MASTER}-O7` };
export const TASK_ID = { value: 'web-1' };
export const EXECUTOR_ID = { value: 'web-executor' };
/** A 16-byte UUID in base64. */
export const UUID = 'Ej5FZ+ibQtOkVkJmFBdAAA==';
export const DATA = 'aGVsbG8gZXhlY3V0b3I=';

const labels = { labels: [{ key: 'team', value: 'infra' }, { key: 'canary' }] };

export const cpus = {
  name: 'cpus',
  type: 'SCALAR',
  scalar: { value: 1.5 },
  role: '*',
  allocation_info: { role: 'web' },
} satisfies Resource;
export const ports = {
  name: 'ports',
  type: 'RANGES',
  ranges: { range: [{ begin: 31000, end: 31009 }] },
} satisfies Resource;
const gpuModels = { name: 'gpus_model', type: 'SET', set: { item: ['a100', 'h100'] } } satisfies Resource;
export const reservedMem = {
  name: 'mem',
  type: 'SCALAR',
  scalar: { value: 256 },
  reservations: [
    { type: 'STATIC', role: 'web' },
    { type: 'DYNAMIC', role: 'web/front', principal: 'ops', labels },
  ],
} satisfies Resource;
export const volume = {
  name: 'disk',
  type: 'SCALAR',
  scalar: { value: 1024 },
  role: 'web',
  reservation: { principal: 'ops' },
  disk: { persistence: { id: 'vol-1', principal: 'ops' }, volume: { mode: 'RW', container_path: 'data' } },
  provider_id: { value: 'rp-1' },
  shared: {},
} satisfies Resource;
const revocableCpus = { name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 }, revocable: {} } satisfies Resource;

export const resources = [cpus, ports, gpuModels, reservedMem, volume, revocableCpus];

const attributes = [
  { name: 'rack', type: 'TEXT', text: { value: 'r1' } },
  { name: 'level', type: 'SCALAR', scalar: { value: 2 } },
  { name: 'slots', type: 'RANGES', ranges: { range: [{ begin: 1, end: 4 }] } },
  { name: 'zones', type: 'SET', set: { item: ['a'] } },
] satisfies Attribute[];

const domain = { fault_domain: { region: { name: 'eu' }, zone: { name: 'eu-1a' } } };

export const frameworkInfo = {
  user: 'root',
  name: 'web-scheduler',
  id: FRAMEWORK_ID,
  failover_timeout: 604800,
  checkpoint: true,
  role: 'web',
  roles: ['web', 'batch'],
  hostname: 'sched.example.com',
  principal: 'web-principal',
  webui_url: 'http://sched.example.com:8080/',
  capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }, { type: 'TASK_KILLING_STATE' }],
  labels,
  offer_filters: { web: { min_allocatable_resources: { quantities: [{ quantities: { cpus: { value: 1 } } }] } } },
} satisfies FrameworkInfo;

export const commandInfo = {
  uris: [
    { value: 'https://example.com/app.tgz', executable: false, extract: true, cache: true, output_file: 'app.tgz' },
  ],
  environment: {
    variables: [
      { name: 'PORT', type: 'VALUE', value: '31000' },
      { name: 'TOKEN', type: 'SECRET', secret: { type: 'REFERENCE', reference: { name: 'tok' } } },
    ],
  },
  shell: false,
  value: '/usr/bin/app',
  arguments: ['app', '--port', '31000'],
  user: 'nobody',
} satisfies CommandInfo;

const duration = { nanoseconds: 3000000000 };

export const executorInfo = {
  type: 'CUSTOM',
  executor_id: EXECUTOR_ID,
  framework_id: FRAMEWORK_ID,
  command: commandInfo,
  container: { type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: { name: 'alpine' } } } },
  resources: [cpus],
  name: 'web executor',
  source: 'web',
  data: DATA,
  discovery: { visibility: 'FRAMEWORK', name: 'web' },
  shutdown_grace_period: duration,
  labels,
} satisfies ExecutorInfo;

const { command: _command, ...customFields } = executorInfo;
/** The default executor runs task groups and has no command. */
export const defaultExecutor = { ...customFields, type: 'DEFAULT' } satisfies ExecutorInfo;

export const taskInfo = {
  name: 'web-1',
  task_id: TASK_ID,
  agent_id: AGENT_ID,
  resources,
  executor: executorInfo,
  command: { value: 'sleep 1000' },
  container: { type: 'DOCKER', docker: { image: 'nginx', network: 'BRIDGE' } },
  health_check: {
    type: 'HTTP',
    http: { protocol: 'IPv4', scheme: 'http', port: 8080, path: '/health', statuses: [200] },
    delay_seconds: 15,
    interval_seconds: 10,
    timeout_seconds: 20,
    consecutive_failures: 3,
    grace_period_seconds: 10,
  },
  check: { type: 'TCP', tcp: { port: 8080 } },
  kill_policy: { grace_period: duration },
  data: DATA,
  labels,
  discovery: { visibility: 'CLUSTER' },
  max_completion_time: { nanoseconds: 60000000000 },
  limits: { cpus: 'Infinity', mem: 512, disk: { value: 2048 } },
} satisfies TaskInfo;

export const commandTask = {
  name: 'echo',
  task_id: { value: 'echo-1' },
  agent_id: AGENT_ID,
  resources: [cpus],
  command: { shell: true, value: 'echo hi' },
  health_check: { type: 'COMMAND', command: { value: 'true' } },
} satisfies TaskInfo;

export const taskStatus = {
  task_id: TASK_ID,
  state: 'TASK_RUNNING',
  message: 'running',
  source: 'SOURCE_EXECUTOR',
  reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED',
  data: DATA,
  agent_id: AGENT_ID,
  executor_id: EXECUTOR_ID,
  timestamp: 1700000000.25,
  uuid: UUID,
  healthy: true,
  check_status: { type: 'TCP', tcp: { succeeded: true } },
  labels,
  container_status: {
    container_id: { value: 'c-child', parent: { value: 'c-parent' } },
    network_infos: [{ ip_addresses: [{ ip_address: '10.0.0.5' }] }],
    cgroup_info: { net_cls: { classid: 1 } },
    executor_pid: 4242,
  },
  unreachable_time: { nanoseconds: 1700000000000000000 },
  limitation: { resources: [cpus] },
} satisfies TaskStatus;

const address = { hostname: 'agent1.example.com', ip: '10.0.0.1', port: 5051 };
const unavailability = { start: { nanoseconds: 1700000000000000000 }, duration };

export const offer = {
  id: OFFER_ID,
  framework_id: FRAMEWORK_ID,
  agent_id: AGENT_ID,
  hostname: 'agent1.example.com',
  url: { scheme: 'http', address, path: '/slave(1)', query: [{ key: 'a', value: 'b' }], fragment: 'top' },
  domain,
  resources,
  attributes,
  executor_ids: [EXECUTOR_ID],
  unavailability,
  allocation_info: { role: 'web' },
} satisfies Offer;

export const masterInfo = {
  id: MASTER,
  ip: 16777343,
  port: 5050,
  pid: 'master@127.0.0.1:5050',
  hostname: 'master.example.com',
  version: '1.11.0',
  address: { hostname: 'master.example.com', ip: '127.0.0.1', port: 5050 },
  domain,
  capabilities: [{ type: 'AGENT_UPDATE' }, { type: 'QUOTA_V2' }],
} satisfies MasterInfo;

export const agentInfo = {
  hostname: 'agent1.example.com',
  port: 5051,
  resources,
  attributes,
  id: AGENT_ID,
  domain,
} satisfies AgentInfo;

const filters = { refuse_seconds: 30 };
const OPERATION_ID = { value: 'op-1' };

/** One operation of each type. */
export const operations = [
  { type: 'LAUNCH', id: OPERATION_ID, launch: { task_infos: [taskInfo, commandTask] } },
  {
    type: 'LAUNCH_GROUP',
    launch_group: { executor: defaultExecutor, task_group: { tasks: [commandTask] } },
  },
  { type: 'RESERVE', reserve: { source: [cpus], resources: [reservedMem] } },
  { type: 'UNRESERVE', unreserve: { resources: [reservedMem] } },
  { type: 'CREATE', create: { volumes: [volume] } },
  { type: 'DESTROY', destroy: { volumes: [volume] } },
  { type: 'GROW_VOLUME', grow_volume: { volume: volume, addition: volume } },
  { type: 'SHRINK_VOLUME', shrink_volume: { volume: volume, subtract: { value: 10 } } },
  { type: 'CREATE_DISK', create_disk: { source: volume, target_type: 'MOUNT' } },
  { type: 'DESTROY_DISK', destroy_disk: { source: volume } },
] satisfies Operation[];

/** One scheduler call of each type, every field set. */
export const schedulerCalls = {
  SUBSCRIBE: {
    type: 'SUBSCRIBE',
    framework_id: FRAMEWORK_ID,
    subscribe: {
      framework_info: frameworkInfo,
      suppressed_roles: ['batch'],
      offer_constraints: { role_constraints: { web: { groups: [] } } },
    },
  },
  TEARDOWN: { type: 'TEARDOWN', framework_id: FRAMEWORK_ID },
  ACCEPT: { type: 'ACCEPT', framework_id: FRAMEWORK_ID, accept: { offer_ids: [OFFER_ID], operations, filters } },
  DECLINE: { type: 'DECLINE', framework_id: FRAMEWORK_ID, decline: { offer_ids: [OFFER_ID], filters } },
  ACCEPT_INVERSE_OFFERS: {
    type: 'ACCEPT_INVERSE_OFFERS',
    framework_id: FRAMEWORK_ID,
    accept_inverse_offers: { inverse_offer_ids: [OFFER_ID], filters },
  },
  DECLINE_INVERSE_OFFERS: {
    type: 'DECLINE_INVERSE_OFFERS',
    framework_id: FRAMEWORK_ID,
    decline_inverse_offers: { inverse_offer_ids: [OFFER_ID], filters },
  },
  REVIVE: { type: 'REVIVE', framework_id: FRAMEWORK_ID, revive: { roles: ['web'] } },
  KILL: {
    type: 'KILL',
    framework_id: FRAMEWORK_ID,
    kill: { task_id: TASK_ID, agent_id: AGENT_ID, kill_policy: { grace_period: duration } },
  },
  SHUTDOWN: { type: 'SHUTDOWN', framework_id: FRAMEWORK_ID, shutdown: { executor_id: EXECUTOR_ID, agent_id: AGENT_ID } },
  ACKNOWLEDGE: {
    type: 'ACKNOWLEDGE',
    framework_id: FRAMEWORK_ID,
    acknowledge: { agent_id: AGENT_ID, task_id: TASK_ID, uuid: UUID },
  },
  ACKNOWLEDGE_OPERATION_STATUS: {
    type: 'ACKNOWLEDGE_OPERATION_STATUS',
    framework_id: FRAMEWORK_ID,
    acknowledge_operation_status: {
      agent_id: AGENT_ID,
      resource_provider_id: { value: 'rp-1' },
      uuid: UUID,
      operation_id: OPERATION_ID,
    },
  },
  RECONCILE: {
    type: 'RECONCILE',
    framework_id: FRAMEWORK_ID,
    reconcile: { tasks: [{ task_id: TASK_ID, agent_id: AGENT_ID }, { task_id: { value: 'web-2' } }] },
  },
  RECONCILE_OPERATIONS: {
    type: 'RECONCILE_OPERATIONS',
    framework_id: FRAMEWORK_ID,
    reconcile_operations: {
      operations: [{ operation_id: OPERATION_ID, agent_id: AGENT_ID, resource_provider_id: { value: 'rp-1' } }],
    },
  },
  MESSAGE: {
    type: 'MESSAGE',
    framework_id: FRAMEWORK_ID,
    message: { agent_id: AGENT_ID, executor_id: EXECUTOR_ID, data: DATA },
  },
  REQUEST: {
    type: 'REQUEST',
    framework_id: FRAMEWORK_ID,
    request: { requests: [{ agent_id: AGENT_ID, resources: [cpus] }] },
  },
  SUPPRESS: { type: 'SUPPRESS', framework_id: FRAMEWORK_ID, suppress: { roles: ['batch'] } },
  UPDATE_FRAMEWORK: {
    type: 'UPDATE_FRAMEWORK',
    framework_id: FRAMEWORK_ID,
    update_framework: {
      framework_info: { ...frameworkInfo, name: 'web-scheduler-2' },
      suppressed_roles: [],
      offer_constraints: { role_constraints: {} },
    },
  },
} satisfies { [T in scheduler.CallType]: scheduler.CallOf<T> };

/** One scheduler event of each type, every field set. */
export const schedulerEvents = {
  SUBSCRIBED: {
    type: 'SUBSCRIBED',
    subscribed: { framework_id: FRAMEWORK_ID, heartbeat_interval_seconds: 15, master_info: masterInfo },
  },
  OFFERS: { type: 'OFFERS', offers: { offers: [offer] } },
  INVERSE_OFFERS: {
    type: 'INVERSE_OFFERS',
    inverse_offers: {
      inverse_offers: [
        {
          id: OFFER_ID,
          url: offer.url,
          framework_id: FRAMEWORK_ID,
          agent_id: AGENT_ID,
          unavailability,
          resources: [cpus],
        },
      ],
    },
  },
  RESCIND: { type: 'RESCIND', rescind: { offer_id: OFFER_ID } },
  RESCIND_INVERSE_OFFER: { type: 'RESCIND_INVERSE_OFFER', rescind_inverse_offer: { inverse_offer_id: OFFER_ID } },
  UPDATE: { type: 'UPDATE', update: { status: taskStatus } },
  UPDATE_OPERATION_STATUS: {
    type: 'UPDATE_OPERATION_STATUS',
    update_operation_status: {
      status: {
        operation_id: OPERATION_ID,
        state: 'OPERATION_FINISHED',
        message: 'done',
        converted_resources: [reservedMem],
        uuid: { value: UUID },
        agent_id: AGENT_ID,
        resource_provider_id: { value: 'rp-1' },
      },
    },
  },
  MESSAGE: { type: 'MESSAGE', message: { agent_id: AGENT_ID, executor_id: EXECUTOR_ID, data: DATA } },
  FAILURE: { type: 'FAILURE', failure: { agent_id: AGENT_ID, executor_id: EXECUTOR_ID, status: 256 } },
  ERROR: { type: 'ERROR', error: { message: 'Framework failed over' } },
  HEARTBEAT: { type: 'HEARTBEAT' },
} satisfies { [T in scheduler.EventType]: scheduler.EventOf<T> };

const ids = { executor_id: EXECUTOR_ID, framework_id: FRAMEWORK_ID };

/** One executor call of each type, every field set. */
export const executorCalls = {
  SUBSCRIBE: {
    type: 'SUBSCRIBE',
    ...ids,
    subscribe: { unacknowledged_tasks: [taskInfo], unacknowledged_updates: [{ status: taskStatus }] },
  },
  UPDATE: { type: 'UPDATE', ...ids, update: { status: taskStatus } },
  MESSAGE: { type: 'MESSAGE', ...ids, message: { data: DATA } },
  HEARTBEAT: { type: 'HEARTBEAT', ...ids },
} satisfies { [T in executor.CallType]: executor.CallOf<T> };

/** One executor event of each type, every field set. */
export const executorEvents = {
  SUBSCRIBED: {
    type: 'SUBSCRIBED',
    subscribed: {
      executor_info: executorInfo,
      framework_info: frameworkInfo,
      agent_info: agentInfo,
      container_id: { value: 'c-parent' },
    },
  },
  LAUNCH: { type: 'LAUNCH', launch: { task: taskInfo } },
  LAUNCH_GROUP: { type: 'LAUNCH_GROUP', launch_group: { task_group: { tasks: [commandTask, commandTask] } } },
  KILL: { type: 'KILL', kill: { task_id: TASK_ID, kill_policy: { grace_period: duration } } },
  ACKNOWLEDGED: { type: 'ACKNOWLEDGED', acknowledged: { task_id: TASK_ID, uuid: UUID } },
  MESSAGE: { type: 'MESSAGE', message: { data: DATA } },
  SHUTDOWN: { type: 'SHUTDOWN' },
  ERROR: { type: 'ERROR', error: { message: 'invalid call' } },
  HEARTBEAT: { type: 'HEARTBEAT' },
} satisfies { [T in executor.EventType]: executor.EventOf<T> };

/**
 * Keys whose values the schemas carry uninterpreted: anything below them is accepted as is.
 */
export const OPAQUE_KEYS = new Set([
  'container',
  'discovery',
  'check',
  'check_status',
  'disk',
  'secret',
  'offer_constraints',
  'offer_filters',
  'network_infos',
  'cgroup_info',
  'grow_volume',
  'shrink_volume',
  'create_disk',
  'destroy_disk',
  'revocable',
  'shared',
]);
