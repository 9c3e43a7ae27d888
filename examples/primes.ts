/**
 * Counts the primes below `--max` on a cluster: a framework whose scheduler splits `[2, max)`
 * into `--tasks` ranges and runs each in its own executor (`primes-executor.ts`, a TypeScript
 * process the agent starts). Each executor reports its count by framework message; the
 * scheduler adds them up, keyed by task so a repeated message never counts twice, prints
 *
 *   primes below 10000: 1229
 *
 * and tears the framework down.
 *
 *   npx tsx examples/primes.ts --max 10000 --tasks 5
 *   npx tsx examples/primes.ts --master master@node1 --nats nats://127.0.0.1:4222
 *
 * Without `--master` it starts a cluster in this process (master, allocator and three agents)
 * and stops it at the end. Exit codes: 0 done, 1 a task failed or the run timed out, 2 bad flags.
 */
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { SchedulerDriver } from '../actors/scheduler/scheduler-driver.ts';
import { Resources } from '../src/mesos/resources.ts';
import type { AgentID, ExecutorID, FrameworkID, Offer, TaskStatus } from '../src/mesos/v1/common.ts';
import { isTerminalState } from '../src/mesos/v1/task.ts';
import { IDLE_FILTERS, OfferPlan, WAITING_FILTERS, type UnplacedTask } from './lib/offers.ts';
import { encodeRange, MAX_LIMIT, parseReport, splitRange, type Range } from './lib/primes.ts';
import { exampleLogger, intFlag, type Job, JobFailure, parseCommandLine, type ProgramSpec, runJob, typescriptExecutor } from './lib/program.ts';

const EXECUTOR_FILE = fileURLToPath(new URL('./primes-executor.ts', import.meta.url));

/** What one task takes (with its executor, `cpus:0.5;mem:64`). */
const TASK_RESOURCES = 'cpus:0.4;mem:32';
const EXECUTOR_RESOURCES = 'cpus:0.1;mem:32';

/** Each task is an executor process: a bound on how many one run starts. */
const MAX_TASKS = 1000;

/** How long after a task's `TASK_FINISHED` its count may still arrive (framework messages are best effort). */
const REPORT_GRACE_MS = 5_000;

const spec: ProgramSpec = {
  name: 'primes',
  summary: 'Count the primes below --max with --tasks tasks, each in its own executor, and print the total.',
  examples: ['npx tsx examples/primes.ts --max 10000 --tasks 5', 'npx tsx examples/primes.ts --master master@node1 --nats nats://127.0.0.1:4222'],
  flags: [
    { name: 'max', type: 'int', help: `count the primes in [2, max); at most ${MAX_LIMIT}`, default: 10_000 },
    { name: 'tasks', type: 'int', help: `split the range into this many tasks (1 to ${MAX_TASKS})`, default: 5 },
  ],
};

interface PrimesOptions {
  readonly max: number;
  readonly tasks: number;
  readonly verbose: boolean;
}

/**
 * The scheduler: places the pending tasks on offers round-robin (spreading them over the agents),
 * declines what it cannot use with a filter, suppresses offers once every task is launched, and
 * completes when every task has reported its count. A task that ends any other way than
 * `TASK_FINISHED` fails the run.
 */
class PrimesScheduler implements Job {
  readonly done: Promise<void>;
  #resolve!: () => void;
  #reject!: (failure: JobFailure) => void;
  readonly #ranges = new Map<string, Range>();
  readonly #pending: UnplacedTask[] = [];
  readonly #counts = new Map<string, number>();
  #registered = false;
  #over = false;

  constructor(
    readonly options: PrimesOptions,
    readonly log: Logger,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    splitRange({ lo: 2, hi: options.max }, options.tasks).forEach((range, i) => {
      const id = `primes-${i + 1}`;
      this.#ranges.set(id, range);
      this.#pending.push({
        name: `primes [${range.lo}, ${range.hi})`,
        task_id: { value: id },
        // One executor per task: its id is the task's.
        executor: typescriptExecutor(`${id}-executor`, 'primes executor', EXECUTOR_FILE, EXECUTOR_RESOURCES, options.verbose),
        resources: Resources.parse(TASK_RESOURCES).toJSON(),
        data: encodeRange(range),
      });
    });
  }

  progress(): string {
    if (!this.#registered) return 'the framework never registered with the master';
    const launched = this.#ranges.size - this.#pending.length;
    return `${this.#counts.size} of ${this.#ranges.size} tasks reported (${launched} launched)`;
  }

  registered(_driver: SchedulerDriver, frameworkId: FrameworkID): void {
    this.#registered = true;
    this.log.info({ frameworkId: frameworkId.value }, 'Registered');
  }

  reregistered(): void {
    this.log.info('Re-registered');
  }

  disconnected(): void {
    this.log.warn('Disconnected from the master; the driver re-subscribes');
  }

  resourceOffers(driver: SchedulerDriver, offers: Offer[]): void {
    const plans = offers.map((offer) => new OfferPlan(offer));
    // Round-robin, one task per offer per turn, so the tasks spread over the agents.
    for (let placed = true; placed && this.#pending.length > 0 && !this.#over; ) {
      placed = false;
      for (const plan of plans) {
        const task = this.#pending[0];
        if (task === undefined || !plan.place(task)) continue;
        this.#pending.shift();
        placed = true;
      }
    }
    const filters = this.#pending.length > 0 && !this.#over ? WAITING_FILTERS : IDLE_FILTERS;
    for (const plan of plans) {
      if (plan.tasks.length > 0) this.log.info({ agentId: plan.agentId, tasks: plan.tasks.map((t) => t.task_id.value) }, 'Launching');
      plan.submit(driver, filters);
    }
    if (this.#pending.length === 0) driver.suppressOffers();
  }

  statusUpdate(_driver: SchedulerDriver, status: TaskStatus): void {
    const id = status.task_id.value;
    this.log.info({ taskId: id, state: status.state, message: status.message }, 'Status update');
    if (this.#over || !this.#ranges.has(id)) return;
    if (status.state === 'TASK_FINISHED') {
      if (!this.#counts.has(id)) this.#expectReport(id);
    } else if (isTerminalState(status.state)) {
      const why = [status.message, status.reason].filter((s) => s !== undefined && s !== '').join('; ');
      this.#fail(`task ${id} ended ${status.state}${why !== '' ? `: ${why}` : ''}`);
    }
  }

  frameworkMessage(_driver: SchedulerDriver, executorId: ExecutorID, _agentId: AgentID, data: Buffer): void {
    const report = parseReport(data);
    const range = report !== undefined ? this.#ranges.get(report.task) : undefined;
    if (report === undefined || range === undefined || range.lo !== report.lo || range.hi !== report.hi) {
      this.log.warn({ executorId: executorId.value, bytes: data.length }, 'Ignoring a framework message that is not a report of one of our tasks');
      return;
    }
    if (this.#counts.has(report.task)) {
      this.log.info({ taskId: report.task }, 'Ignoring a repeated report');
      return;
    }
    this.#counts.set(report.task, report.count);
    if (this.#counts.size === this.#ranges.size) this.#complete();
  }

  executorLost(_driver: SchedulerDriver, executorId: ExecutorID, agentId: AgentID, status: number): void {
    if (!this.#over) this.log.warn({ executorId: executorId.value, agentId: agentId.value, status }, 'Executor lost');
  }

  slaveLost(_driver: SchedulerDriver, agentId: AgentID): void {
    this.log.warn({ agentId: agentId.value }, 'Agent lost');
  }

  error(_driver: SchedulerDriver, message: string): void {
    this.#fail(`the master reported an error: ${message}`);
  }

  /** A finished task whose count has not come: it may still be on its way, for a while. */
  #expectReport(id: string): void {
    setTimeout(() => {
      if (!this.#counts.has(id)) this.#fail(`task ${id} finished but its count never arrived (framework messages are best effort)`);
    }, REPORT_GRACE_MS).unref();
  }

  #complete(): void {
    let total = 0;
    for (const count of this.#counts.values()) total += count;
    this.#over = true;
    console.log(`primes below ${this.options.max}: ${total}`);
    this.#resolve();
  }

  #fail(message: string): void {
    if (this.#over) return;
    this.#over = true;
    this.#reject(new JobFailure(message));
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const options = parseCommandLine(spec, argv, (values) => ({
    max: intFlag(values, 'max', 2, MAX_LIMIT),
    tasks: intFlag(values, 'tasks', 1, MAX_TASKS),
  }));
  if (typeof options === 'number') return options;
  const logger = exampleLogger(spec.name, options.verbose);
  return runJob(spec, options, logger, new PrimesScheduler(options, logger));
}

process.exitCode = await main(process.argv.slice(2));
