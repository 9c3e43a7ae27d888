import type { Task } from './protocol.ts';
import { Resources } from './resources.ts';
import type { Attribute, CommandInfo, ContainerStatus, ExecutorInfo, FrameworkInfo, Resource, TaskStatus } from './v1/common.ts';
import { frameworkRoles, hasFrameworkCapability } from './v1/common.ts';

/**
 * The operator-endpoint JSON of Mesos's `model()` functions (`src/common/http.cpp`): resources
 * as one object of totals (`{"cpus": 4, "mem": 8192, "disk": 0, "gpus": 0, "ports": "[31000-32000]"}`),
 * attributes as `{"rack": "r1"}`. Shared by the master's and the agent's `/state`.
 */

export type ResourcesModel = Record<string, number | string>;

/** Totals by name over all reservations; `cpus`, `mem`, `disk` and `gpus` are always present. */
export function resourcesModel(resources: Resources | Resource[]): ResourcesModel {
  const r = resources instanceof Resources ? resources : Resources.fromJSON(resources);
  const out: ResourcesModel = { cpus: 0, mem: 0, disk: 0, gpus: 0 };
  for (const name of r.names()) {
    const ranges = r.ranges(name);
    const set = r.set(name);
    if (ranges.length > 0) out[name] = `[${ranges.map((x) => `${x.begin}-${x.end}`).join(', ')}]`;
    else if (set.length > 0) out[name] = `{${set.join(', ')}}`;
    else out[name] = r.scalar(name);
  }
  return out;
}

/**
 * The role a task's or an executor's resources are allocated to, as Mesos writes `role` (the
 * `allocation_info` of the first resource): that, when the resources carry it; else the
 * framework's role when it has exactly one (all it can be offered); else unknown.
 */
export function allocationRole(resources: readonly Resource[] | undefined, framework: FrameworkInfo | undefined): string | undefined {
  const tagged = resources?.find((r) => r.allocation_info?.role !== undefined)?.allocation_info?.role;
  if (tagged !== undefined) return tagged;
  if (framework === undefined) return undefined;
  const roles = frameworkRoles(framework);
  return roles.length === 1 ? roles[0] : undefined;
}

/** `{"role": "web"}` for a single-role framework, `{"roles": [...]}` for a MULTI_ROLE one, as Mesos. */
export function frameworkRoleModel(info: FrameworkInfo): { role: string } | { roles: string[] } {
  return hasFrameworkCapability(info, 'MULTI_ROLE') ? { roles: [...(info.roles ?? [])] } : { role: info.role ?? '*' };
}

/** `model(ContainerStatus)`: the container id, its networks and cgroup, nothing else. */
function containerStatusModel(status: ContainerStatus): Record<string, unknown> {
  return {
    ...(status.container_id !== undefined ? { container_id: status.container_id } : {}),
    ...(status.network_infos !== undefined && status.network_infos.length > 0 ? { network_infos: status.network_infos } : {}),
    ...(status.cgroup_info !== undefined ? { cgroup_info: status.cgroup_info } : {}),
  };
}

/**
 * `model(TaskStatus)`: `state`, `timestamp` (seconds, a float), and when set `labels`,
 * `container_status`, `healthy`. `message` and `reason` are ours too: tools that read only
 * Mesos's fields skip them.
 */
export function statusModel(s: TaskStatus): Record<string, unknown> {
  return {
    state: s.state,
    timestamp: s.timestamp,
    ...(s.message !== undefined ? { message: s.message } : {}),
    ...(s.reason !== undefined ? { reason: s.reason } : {}),
    ...(s.labels?.labels !== undefined ? { labels: s.labels.labels } : {}),
    ...(s.healthy !== undefined ? { healthy: s.healthy } : {}),
    ...(s.check_status !== undefined ? { check_status: s.check_status } : {}),
    ...(s.container_status !== undefined ? { container_status: containerStatusModel(s.container_status) } : {}),
  };
}

/**
 * A task as Mesos's `model(Task)`: the master's and the agent's `/state` list tasks so. `role`
 * is the role its resources were allocated to (`allocationRole`, given the task's framework);
 * it is left out when that cannot be known.
 */
export function taskModel(task: Task, framework?: FrameworkInfo): Record<string, unknown> {
  let resources: ResourcesModel;
  try {
    resources = resourcesModel(task.resources);
  } catch {
    resources = resourcesModel(Resources.EMPTY); // A task the master validated; unreadable means none.
  }
  const role = allocationRole(task.resources, framework);
  return {
    id: task.task_id.value,
    name: task.name,
    framework_id: task.framework_id.value,
    executor_id: task.executor_id?.value ?? '',
    slave_id: task.agent_id.value,
    state: task.state,
    resources,
    ...(role !== undefined ? { role } : {}),
    statuses: task.statuses.map(statusModel),
    ...(task.labels?.labels !== undefined ? { labels: task.labels.labels } : {}),
  };
}

/**
 * `model(CommandInfo)`: `shell` and `value` when set, `argv` (the proto's `arguments`),
 * `environment` as `{variables: [{name, value}]}`, `uris` as `[{value, executable}]`.
 */
export function commandModel(command: CommandInfo | undefined): Record<string, unknown> {
  const c = command ?? {};
  return {
    ...(c.shell !== undefined ? { shell: c.shell } : {}),
    ...(c.value !== undefined ? { value: c.value } : {}),
    argv: [...(c.arguments ?? [])],
    ...(c.environment !== undefined
      ? { environment: { variables: (c.environment.variables ?? []).map((v) => ({ name: v.name, value: v.value ?? '' })) } }
      : {}),
    uris: (c.uris ?? []).map((u) => ({ value: u.value, executable: u.executable ?? false })),
  };
}

/**
 * `json(ExecutorInfo)` as the master's `frameworks[].executors[]` show it: `executor_id`,
 * `name`, `framework_id`, `command`, `resources`, `role` (when it has resources), `labels`
 * and `type` when set.
 */
export function executorInfoModel(info: ExecutorInfo, frameworkId: string, framework?: FrameworkInfo): Record<string, unknown> {
  const resources = info.resources ?? [];
  const role = resources.length > 0 ? allocationRole(resources, framework) : undefined;
  return {
    executor_id: info.executor_id.value,
    name: info.name ?? '',
    framework_id: info.framework_id?.value ?? frameworkId,
    command: commandModel(info.command),
    resources: resourcesModel(safe(resources)),
    ...(role !== undefined ? { role } : {}),
    ...(info.labels?.labels !== undefined ? { labels: info.labels.labels } : {}),
    ...(info.type !== undefined ? { type: info.type } : {}),
  };
}

function safe(resources: Resource[]): Resources {
  try {
    return Resources.fromJSON(resources);
  } catch {
    return Resources.EMPTY;
  }
}

/**
 * The `*_full` fields of `/master/slaves` and the agent's `/state`: every resource as its v1
 * JSON, with its reservations, so operators can `/unreserve` it. By role for reserved ones.
 */
export function reservedFullModel(resources: Resources): Record<string, Resource[]> {
  const out: Record<string, Resource[]> = {};
  for (const role of Object.keys(reservedModel(resources))) out[role] = [...resources.reserved(role).toJSON()] as Resource[];
  return out;
}

export function resourcesFullModel(resources: Resources): Resource[] {
  return [...resources.toJSON()] as Resource[];
}

/** Resources per role, as `reserved_resources` shows them (reserved ones only). */
export function reservedModel(resources: Resources): Record<string, ResourcesModel> {
  const out: Record<string, ResourcesModel> = {};
  const roles = new Set<string>();
  for (const e of resources.entries()) {
    const last = e.reservations[e.reservations.length - 1];
    if (last !== undefined) roles.add(last.role);
  }
  for (const role of roles) out[role] = resourcesModel(resources.reserved(role));
  return out;
}

/** `{"rack": "r1", "slots": 4, "ports": "[1-2]", "zones": "{a, b}"}`: ranges and sets as Mesos's `stringify`. */
export function attributesModel(attributes: Attribute[] | undefined): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const a of attributes ?? []) {
    switch (a.type) {
      case 'SCALAR':
        out[a.name] = a.scalar?.value ?? 0;
        break;
      case 'RANGES':
        out[a.name] = `[${(a.ranges?.range ?? []).map((x) => `${x.begin}-${x.end}`).join(', ')}]`;
        break;
      case 'SET':
        out[a.name] = `{${(a.set?.item ?? []).join(', ')}}`;
        break;
      default:
        out[a.name] = a.text?.value ?? '';
    }
  }
  return out;
}

/**
 * Parses the Mesos attribute text form `rack:r1;slots:4;ports:[1-2];zones:{a,b}` into v1
 * attributes: a number is a SCALAR, `[..]` RANGES, `{..}` a SET, anything else TEXT.
 * Throws an error naming the bad part.
 */
export function parseAttributes(text: string): Attribute[] {
  const out: Attribute[] = [];
  for (const part of text.split(';').map((p) => p.trim()).filter((p) => p.length > 0)) {
    const colon = part.indexOf(':');
    if (colon <= 0 || colon === part.length - 1) throw new Error(`invalid attribute '${part}': must be 'name:value'`);
    const name = part.slice(0, colon).trim();
    const value = part.slice(colon + 1).trim();
    if (/^-?\d+(\.\d+)?$/.test(value)) {
      out.push({ name, type: 'SCALAR', scalar: { value: Number(value) } });
    } else if (value.startsWith('[') && value.endsWith(']')) {
      const range = value
        .slice(1, -1)
        .split(',')
        .map((r) => r.trim())
        .filter((r) => r.length > 0)
        .map((r) => {
          const m = /^(\d+)-(\d+)$/.exec(r);
          if (m === null || Number(m[1]) > Number(m[2])) throw new Error(`invalid attribute '${part}': bad range '${r}'`);
          return { begin: Number(m[1]), end: Number(m[2]) };
        });
      out.push({ name, type: 'RANGES', ranges: { range } });
    } else if (value.startsWith('{') && value.endsWith('}')) {
      const item = value.slice(1, -1).split(',').map((i) => i.trim()).filter((i) => i.length > 0);
      out.push({ name, type: 'SET', set: { item } });
    } else {
      out.push({ name, type: 'TEXT', text: { value } });
    }
  }
  return out;
}
