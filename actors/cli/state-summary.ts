/**
 * A readable summary of a master's `/master/state` (what `mesos-ts state` prints without
 * `--json`). It reads the JSON defensively: a field missing from another master's state shows
 * as `-`, never as a crash.
 */

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj) : []);
const str = (v: unknown): string => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '-');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function amount(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/0+$/, '');
}

/** `cpus 1/4  mem 128/8192  disk 0/10240`: used over total of the scalar resources. */
function usage(used: Json, total: Json): string {
  const names = Object.keys(total).filter((k) => typeof total[k] === 'number' && (num(total[k]) > 0 || num(used[k]) > 0));
  const parts = names.map((k) => `${k} ${amount(num(used[k]))}/${amount(num(total[k]))}`);
  for (const k of Object.keys(total)) if (typeof total[k] === 'string') parts.push(`${k} ${String(total[k])}`);
  return parts.length > 0 ? parts.join('  ') : '-';
}

/** `cpus 1  mem 128`: the non-zero scalar resources. */
function amounts(resources: Json): string {
  const parts = Object.keys(resources)
    .filter((k) => typeof resources[k] === 'number' && num(resources[k]) > 0)
    .map((k) => `${k} ${amount(num(resources[k]))}`);
  return parts.length > 0 ? parts.join('  ') : '-';
}

function table(rows: string[][], indent = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

function time(seconds: unknown): string {
  return typeof seconds === 'number' && seconds > 0 ? new Date(seconds * 1000).toISOString() : '-';
}

export function summarizeState(state: unknown): string {
  const s = obj(state);
  const info = obj(s.leader_info);
  const address = obj(info.address);
  const lines: string[] = [];
  const http = address.ip !== undefined ? `http://${str(address.hostname ?? address.ip)}:${str(address.port)}` : '-';
  lines.push(`Master ${str(s.pid)}  id ${str(s.id)}  version ${str(s.version)}`);
  lines.push(`  hostname ${str(s.hostname)}  http ${http}  elected ${time(s.elected_time)}`);

  const agents = arr(s.slaves);
  lines.push('', `Agents: ${agents.length} (${num(s.activated_slaves)} active, ${num(s.deactivated_slaves)} inactive, ${num(s.unreachable_slaves)} removed)`);
  if (agents.length > 0) {
    lines.push(
      ...table([
        ['ID', 'HOSTNAME', 'PID', 'ACTIVE', 'RESOURCES (used/total)'],
        ...agents.map((a) => [str(a.id), str(a.hostname), str(a.pid), a.active === true ? 'yes' : 'no', usage(obj(a.used_resources), obj(a.resources))]),
      ]),
    );
  }

  const frameworks = arr(s.frameworks);
  lines.push('', `Frameworks: ${frameworks.length} (${arr(s.completed_frameworks).length} completed)`);
  if (frameworks.length > 0) {
    lines.push(
      ...table([
        ['ID', 'NAME', 'ROLE', 'STATE', 'TASKS', 'USED'],
        ...frameworks.map((f) => [
          str(f.id),
          str(f.name),
          str(f.role),
          f.active === true ? 'active' : f.connected === true ? 'inactive' : 'disconnected',
          String(arr(f.tasks).length),
          amounts(obj(f.used_resources)),
        ]),
      ]),
    );
  }

  const tasks = frameworks.flatMap((f) => arr(f.tasks).map((t): Json => ({ ...t, framework: str(f.name) })));
  lines.push('', `Tasks: ${tasks.length}`);
  if (tasks.length > 0) {
    lines.push(
      ...table([
        ['ID', 'STATE', 'FRAMEWORK', 'AGENT'],
        ...tasks.map((t) => [str(t.id), str(t.state), str(t.framework), str(t.slave_id)]),
      ]),
    );
  }
  return lines.join('\n');
}
