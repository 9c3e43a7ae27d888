import { newStatusUuid, seededByteSource, type ByteSource } from '../../src/mesos/ids.ts';
import type { StatusUpdate } from '../../src/mesos/protocol.ts';
import type { TaskState } from '../../src/mesos/v1/task.ts';

/** Status updates for the status update manager's tests, with uuids from a seeded source. */
export class Updates {
  readonly #source: ByteSource;

  constructor(seed = 1) {
    this.#source = seededByteSource(seed);
  }

  /** An update of `state` for `task` (default `t1`) of `framework` (default `f1`), with a fresh uuid. */
  make(state: TaskState, task = 't1', framework = 'f1', agent = 'a1'): StatusUpdate {
    const uuid = newStatusUuid(this.#source);
    return {
      framework_id: { value: framework },
      agent_id: { value: agent },
      status: { task_id: { value: task }, state, source: 'SOURCE_EXECUTOR', uuid, timestamp: 1 },
      timestamp: 1,
      uuid,
    };
  }
}

export function uuid(update: StatusUpdate): string {
  return update.uuid!;
}
