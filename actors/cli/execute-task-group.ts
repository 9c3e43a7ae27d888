import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { FlagError, type FlagValue } from '../../src/cli/flags.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { AgentIDSchema, TaskInfoSchema, type ExecutorInfo, type TaskInfo } from '../../src/mesos/v1/common.ts';
import type { ExecuteLaunch } from './execute-scheduler.ts';

/**
 * `mesos-ts execute --task_group`, as `mesos-execute --task_group`: a `TaskGroupInfo` in Mesos
 * v1 JSON (the JSON itself, or a file holding it), launched whole (LAUNCH_GROUP) in the default
 * executor on the first offer that holds its tasks and the executor; every task's status updates
 * are printed, and the command exits 0 only when every task finished.
 */

/** The default executor's resources, as `mesos-execute` gives them (its `--executor_resources`). */
export const TASK_GROUP_EXECUTOR_RESOURCES = 'cpus:0.1;mem:32;disk:32';

/** The default executor's id, as `mesos-execute` names it. */
export const TASK_GROUP_EXECUTOR_ID = 'default';

/** A task as `--task_group` takes it: `agent_id` is filled in from the offer. */
const GroupTaskSchema = TaskInfoSchema.extend({ agent_id: AgentIDSchema.optional() });
const TaskGroupFlagSchema = z.object({ tasks: z.array(GroupTaskSchema).min(1) });
type GroupTask = z.infer<typeof GroupTaskSchema>;

/** `--task_group`, read and checked: its tasks, and what they need together with the executor. */
export interface TaskGroupFlag {
  readonly tasks: readonly GroupTask[];
  /** The tasks' resources and the executor's. */
  readonly wanted: Resources;
}

/**
 * Reads `--task_group`: JSON when it starts with `{`, else a path (`/path`, or `file:///path`) to
 * a file of JSON. A value that is not a `TaskGroupInfo` with at least one task, each with a
 * unique id, resources and a command, is a `FlagError` naming what is wrong.
 */
export function readTaskGroupFlag(values: Record<string, FlagValue>): TaskGroupFlag | undefined {
  const text = values.task_group as string | undefined;
  if (text === undefined) return undefined;
  let json = text.trim();
  if (!json.startsWith('{')) {
    const path = json.startsWith('file://') ? json.slice('file://'.length) : json;
    try {
      json = readFileSync(path, 'utf8');
    } catch (error) {
      throw new FlagError('task_group', text, `is neither JSON nor a file that can be read: ${(error as Error).message}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new FlagError('task_group', text, `must be a TaskGroupInfo in JSON: ${(error as Error).message}`);
  }
  const result = TaskGroupFlagSchema.safeParse(parsed);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new FlagError('task_group', text, `is not a TaskGroupInfo: ${issues}`);
  }
  const tasks = result.data.tasks;
  const seen = new Set<string>();
  let wanted = Resources.parse(TASK_GROUP_EXECUTOR_RESOURCES);
  for (const task of tasks) {
    const id = task.task_id.value;
    if (seen.has(id)) throw new FlagError('task_group', text, `has two tasks with id '${id}'`);
    seen.add(id);
    if (task.command === undefined) throw new FlagError('task_group', text, `task '${id}' has no command`);
    if ((task.resources ?? []).length === 0) throw new FlagError('task_group', text, `task '${id}' has no resources`);
    try {
      wanted = wanted.plus(Resources.fromJSON(task.resources));
    } catch (error) {
      throw new FlagError('task_group', text, `task '${id}' has invalid resources: ${(error as Error).message}`);
    }
  }
  return { tasks, wanted };
}

/** What `execute --task_group` launches: the group, whole, in the default executor, as `mesos-execute` names it. */
export function taskGroupLaunch(group: TaskGroupFlag): ExecuteLaunch {
  const taskIds = group.tasks.map((task) => task.task_id.value);
  return {
    taskIds,
    wanted: group.wanted,
    launch(driver, offer) {
      const executor: ExecutorInfo = {
        type: 'DEFAULT',
        executor_id: { value: TASK_GROUP_EXECUTOR_ID },
        framework_id: offer.framework_id,
        resources: Resources.parse(TASK_GROUP_EXECUTOR_RESOURCES).toJSON(),
      };
      const tasks = group.tasks.map((task): TaskInfo => ({ ...task, agent_id: offer.agent_id }));
      driver.acceptOffers(offer.id, [{ type: 'LAUNCH_GROUP', launch_group: { executor, task_group: { tasks } } }]);
      return `Submitted task group with tasks [ ${taskIds.join(', ')} ] to agent '${offer.agent_id.value}'`;
    },
  };
}
