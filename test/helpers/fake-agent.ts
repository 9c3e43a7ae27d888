import type { UPID } from '../../src/process/upid.ts';
import { newStatusUuid } from '../../src/mesos/ids.ts';
import {
  PING_SLAVE,
  PONG_SLAVE,
  REGISTER_SLAVE,
  REREGISTER_SLAVE,
  STATUS_UPDATE,
  EXITED_EXECUTOR,
  EXECUTOR_TO_FRAMEWORK,
  CHECKPOINT_RESOURCES,
  type CheckpointResources,
  type RunTask,
  type SlaveRegistered,
  type Task,
} from '../../src/mesos/protocol.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { TaskState, TaskStatus } from '../../src/mesos/v1/common.ts';
import { Probe } from './runtime.ts';

/**
 * An agent stand-in speaking the master's protocol, for master tests (Mesos tests use a real
 * agent with a mock executor; a scripted one here keeps master tests exact and fast). It
 * registers, answers pings, records `RunTaskMessage`s (and `RunTaskGroupMessage`s, in `received`)
 * and sends status updates on request.
 */
export class FakeAgent extends Probe {
  agentId: string | undefined;
  readonly runTasks: RunTask[] = [];
  answerPings = true;
  /** The dynamically reserved resources it (re-)registers with (`checkpointed_resources`), as text; none by default. */
  checkpointed = '';
  /** The IP address it announces (`ip`, which maintenance machine ids name); none by default. */
  ip: string | undefined;

  constructor(
    id: string,
    readonly master: UPID,
    readonly resources = 'cpus:4;mem:4096;disk:1024;ports:[31000-32000]',
    readonly hostname = 'fake-host',
  ) {
    super(
      id,
      ['KillTaskMessage', 'RunTaskGroupMessage', 'StatusUpdateAcknowledgementMessage', 'ShutdownFrameworkMessage', 'ShutdownExecutorMessage', 'FrameworkToExecutorMessage', 'CheckpointResourcesMessage'],
      {
        SlaveRegisteredMessage(this: FakeAgent, _from: UPID, body: SlaveRegistered) {
          this.agentId = body.slave_id.value;
        },
        SlaveReregisteredMessage(this: FakeAgent, _from: UPID, body: SlaveRegistered) {
          this.agentId = body.slave_id.value;
        },
        RunTaskMessage(this: FakeAgent, _from: UPID, body: RunTask) {
          this.runTasks.push(body);
        },
        [PING_SLAVE](this: FakeAgent, from: UPID) {
          if (this.answerPings) this.send(from, PONG_SLAVE, {});
        },
      },
    );
  }

  override initialize(): void {
    this.register();
  }

  register(): void {
    this.send(this.master, REGISTER_SLAVE, { slave: { hostname: this.hostname, resources: Resources.parse(this.resources).toJSON() }, ...this.#checkpointed(), version: 'test', ...this.#ip() });
  }

  reregister(tasks: Task[] = []): void {
    this.send(this.master, REREGISTER_SLAVE, {
      slave: { id: { value: this.agentId! }, hostname: this.hostname, resources: Resources.parse(this.resources).toJSON() },
      tasks,
      ...this.#checkpointed(),
      version: 'test',
      ...this.#ip(),
    });
  }

  #ip(): { ip?: string } {
    return this.ip === undefined ? {} : { ip: this.ip };
  }

  #checkpointed(): { checkpointed_resources?: unknown } {
    return this.checkpointed === '' ? {} : { checkpointed_resources: Resources.parse(this.checkpointed).toJSON() };
  }

  /**
   * Sends a status update as the agent's StatusUpdateManager would; returns its uuid.
   * `latestState` is the update's `latest_state` (the task's state at the agent by now).
   */
  update(run: RunTask, state: TaskState, extra: Partial<TaskStatus> = {}, latestState?: TaskState): string {
    const uuid = extra.uuid ?? newStatusUuid();
    const status: TaskStatus = {
      task_id: run.task.task_id,
      state,
      source: 'SOURCE_EXECUTOR',
      agent_id: { value: this.agentId! },
      timestamp: this.clock.now() / 1000,
      uuid,
      ...extra,
    };
    this.send(this.master, STATUS_UPDATE, {
      update: { framework_id: run.framework_id, agent_id: { value: this.agentId! }, status, timestamp: status.timestamp!, uuid, ...(latestState === undefined ? {} : { latest_state: latestState }) },
      pid: String(this.self),
    });
    return uuid;
  }

  executorExited(run: RunTask, status: number): void {
    this.send(this.master, EXITED_EXECUTOR, {
      slave_id: { value: this.agentId! },
      framework_id: run.framework_id,
      executor_id: run.task.executor!.executor_id,
      status,
    });
  }

  messageToFramework(run: RunTask, data: string): void {
    this.send(this.master, EXECUTOR_TO_FRAMEWORK, {
      slave_id: { value: this.agentId! },
      framework_id: run.framework_id,
      executor_id: run.task.executor!.executor_id,
      data: Buffer.from(data).toString('base64'),
    });
  }
}

/** The task of `run` as its agent reports it when it re-registers, in `state`. */
export function reportedTask(run: RunTask, agentId: string, state: TaskState): Task {
  return { name: run.task.name, task_id: run.task.task_id, framework_id: run.framework_id, agent_id: { value: agentId }, state, resources: run.task.resources!, statuses: [] };
}

/** The checkpointed resources the master sent `agent` (`CheckpointResourcesMessage`s), in order. */
export function checkpointsSent(agent: { bodies(name: string): unknown[] }): Resources[] {
  return agent.bodies(CHECKPOINT_RESOURCES).map((b) => Resources.fromJSON((b as CheckpointResources).resources));
}
