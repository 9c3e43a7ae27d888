import type { Task } from './protocol.ts';
import { Resources } from './resources.ts';
import type { Attribute, Resource } from './v1/common.ts';

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

/** A task as Mesos's `model(Task)`: the master's and the agent's `/state` list tasks so. */
export function taskModel(task: Task): Record<string, unknown> {
  let resources: ResourcesModel;
  try {
    resources = resourcesModel(task.resources);
  } catch {
    resources = resourcesModel(Resources.EMPTY); // A task the master validated; unreadable means none.
  }
  return {
    id: task.task_id.value,
    name: task.name,
    framework_id: task.framework_id.value,
    executor_id: task.executor_id?.value ?? '',
    slave_id: task.agent_id.value,
    state: task.state,
    resources,
    statuses: task.statuses.map((s) => ({
      state: s.state,
      timestamp: s.timestamp,
      ...(s.message !== undefined ? { message: s.message } : {}),
      ...(s.reason !== undefined ? { reason: s.reason } : {}),
      ...(s.healthy !== undefined ? { healthy: s.healthy } : {}),
      ...(s.container_status !== undefined ? { container_status: s.container_status } : {}),
    })),
    ...(task.labels?.labels !== undefined ? { labels: task.labels.labels } : {}),
  };
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

/** `{"rack": "r1", "slots": 4, "ports": "[1-2]", "zones": "{a,b}"}`. */
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
        out[a.name] = `{${(a.set?.item ?? []).join(',')}}`;
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
