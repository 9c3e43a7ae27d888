/**
 * A word count on a cluster, run once per `--parallelism` value: the scheduler cuts the text into
 * that many chunks (and chunks over 512 KB into pieces, one task each), sends the text in
 * `TaskInfo.data` to word count executors (`wordcount-executor.ts`), merges the counts they send
 * back by framework message, and prints one row per run:
 *
 *   parallelism=2 tasks=2 time=28ms words=200000 unique=62 top=the:42610
 *
 * Every run must count the same; a difference fails the program. The text is generated
 * (`--words` from a small vocabulary, `--seed`ed, so the answer is reproducible) or read from
 * `--input`.
 *
 *   npx tsx examples/wordcount.ts --words 200000 --parallelism 1,2,4
 *   npx tsx examples/wordcount.ts --input book.txt --parallelism 1,3
 *
 * Parallelism is executors: worker `i` of a run is executor `wordcount-w<i>`, and every piece of
 * chunk `i` goes to it. Executors are reused as Mesos reuses them: a task naming an executor id
 * that already runs on the agent runs in that process, so the scheduler keeps each worker on the
 * agent where its executor runs (and spreads new ones over the agents that run fewest).
 *
 * What `time` includes: from the run's first offer request (a revive) to the last count merged,
 * that is the offer round trip, the launch through master and agent, the text travelling in
 * `TaskInfo.data`, the counting, and the reports coming back. It excludes the executors'
 * process startup (about a second each for Node and tsx): an untimed warm-up round (one empty
 * task per worker, `--no-warmup` to skip it) starts every executor first. It also excludes
 * generating or reading the text and starting the cluster.
 *
 * Without `--master` it starts a cluster in this process and stops it at the end. Exit codes:
 * 0 done, 1 a task failed, the counts differ or the run timed out, 2 bad flags.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { SchedulerDriver } from '../actors/scheduler/scheduler-driver.ts';
import { Resources } from '../src/mesos/resources.ts';
import type { AgentID, ExecutorID, FrameworkID, Offer, TaskStatus } from '../src/mesos/v1/common.ts';
import { isTerminalState } from '../src/mesos/v1/task.ts';
import { IDLE_FILTERS, NEXT_CYCLE_FILTERS, OfferPlan, WAITING_FILTERS, type UnplacedTask } from './lib/offers.ts';
import { exampleLogger, FlagError, type FlagValue, intFlag, type Job, JobFailure, parseCommandLine, type ProgramSpec, runJob, typescriptExecutor } from './lib/program.ts';
import { generateText, mergeCounts, parseCountsReport, sameCounts, splitForWorkers, totals } from './lib/words.ts';

const EXECUTOR_FILE = fileURLToPath(new URL('./wordcount-executor.ts', import.meta.url));

/** What one task takes; its executor's resources are taken once, when it starts on an agent. */
const TASK_RESOURCES = 'cpus:0.4;mem:64';
const EXECUTOR_RESOURCES = 'cpus:0.1;mem:64';

/** The largest piece of text in one task's `data` (UTF-8; base64 makes it a third larger on the wire). */
const MAX_TASK_BYTES = 512 * 1024;

const MAX_PARALLELISM = 64;

/**
 * Over NATS, how much task data (base64) one `resourceOffers` call launches: the calls it makes
 * leave in one bus message, and NATS carries 1 MB per message by default, so a round with larger
 * texts launches one piece per allocation cycle. In-process there is no such limit.
 */
const BUS_LAUNCH_BYTES = 700 * 1024;

/** How long after a task's `TASK_FINISHED` its counts may still arrive (framework messages are best effort). */
const REPORT_GRACE_MS = 5_000;

const spec: ProgramSpec = {
  name: 'wordcount',
  summary: 'Count the words of a text with each --parallelism in turn (one executor per worker) and print a row per run.',
  examples: [
    'npx tsx examples/wordcount.ts --words 200000 --parallelism 1,2,4',
    'npx tsx examples/wordcount.ts --input book.txt --parallelism 1,3',
  ],
  flags: [
    { name: 'words', type: 'int', help: 'words of generated text (ignored with --input)', default: 200_000 },
    { name: 'seed', type: 'int', help: 'seed of the generated text', default: 42 },
    { name: 'input', type: 'string', help: 'count this file (UTF-8) instead of a generated text' },
    { name: 'parallelism', type: 'list', help: `one run per value: how many workers (executors) share the text (1 to ${MAX_PARALLELISM})`, default: '1,2,4' },
    { name: 'warmup', type: 'bool', help: 'start every executor in an untimed round first (--no-warmup: time cold starts too)', default: true },
  ],
};

interface WordCountOptions {
  readonly master: string | undefined;
  readonly text: string;
  readonly parallelism: number[];
  readonly warmup: boolean;
  readonly verbose: boolean;
}

function readOptions(values: Record<string, FlagValue>): Omit<WordCountOptions, 'verbose' | 'master'> {
  const parallelism = (values.parallelism as string[]).map((p) => {
    if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > MAX_PARALLELISM) {
      throw new FlagError('parallelism', values.parallelism, `'${p}' is not a whole number from 1 to ${MAX_PARALLELISM}`);
    }
    return Number(p);
  });
  if (parallelism.length === 0) throw new FlagError('parallelism', '', 'needs at least one value, e.g. 1,2,4');
  const words = intFlag(values, 'words', 0, 100_000_000);
  const seed = intFlag(values, 'seed', 0, 2 ** 32 - 1);
  const input = values.input as string | undefined;
  let text: string;
  if (input === undefined) {
    text = generateText(words, seed);
  } else {
    try {
      text = readFileSync(input, 'utf8');
    } catch (error) {
      throw new FlagError('input', input, `cannot read it: ${(error as Error).message}`);
    }
  }
  return { text, parallelism, warmup: values.warmup === true };
}

/** One round: its tasks and what has come back. */
interface Run {
  readonly name: string;
  readonly parallelism: number;
  /** Printed and compared (the warm-up round is neither). */
  readonly timed: boolean;
  readonly taskIds: ReadonlySet<string>;
  pending: UnplacedTask[];
  /** Report parts received, by task, until every part of a task is in. */
  readonly parts: Map<string, Map<number, [string, number][]>>;
  readonly reported: Set<string>;
  readonly counts: Map<string, number>;
  startedAt: number;
}

/**
 * The scheduler: runs the rounds one after the other on one framework. A round revives offers,
 * places its tasks (each on its worker's agent once that worker's executor runs), suppresses
 * offers when all are launched, and ends when every task's counts are in.
 */
class WordCountScheduler implements Job {
  readonly done: Promise<void>;
  #resolve!: () => void;
  #reject!: (failure: JobFailure) => void;
  readonly #rounds: { name: string; parallelism: number; timed: boolean; pieces: string[][] }[] = [];
  #index = -1;
  #run: Run | undefined;
  /** Where each worker's executor runs: executor id to agent id. */
  readonly #homes = new Map<string, string>();
  #reference: { parallelism: number; counts: Map<string, number> } | undefined;
  #registered = false;
  #over = false;
  readonly #launchBytes: number;

  constructor(
    readonly options: WordCountOptions,
    readonly log: Logger,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#launchBytes = options.master !== undefined ? BUS_LAUNCH_BYTES : Number.POSITIVE_INFINITY;
    if (options.warmup) {
      const workers = Math.max(...options.parallelism);
      this.#rounds.push({ name: 'warmup', parallelism: workers, timed: false, pieces: Array.from({ length: workers }, () => ['']) });
    }
    for (const p of options.parallelism) {
      this.#rounds.push({ name: `p${p}`, parallelism: p, timed: true, pieces: splitForWorkers(options.text, p, MAX_TASK_BYTES) });
    }
  }

  progress(): string {
    const run = this.#run;
    if (!this.#registered || run === undefined) return 'the framework never registered with the master';
    const launched = run.taskIds.size - run.pending.length;
    return `round ${run.name}: ${run.reported.size} of ${run.taskIds.size} tasks reported (${launched} launched)`;
  }

  registered(driver: SchedulerDriver, frameworkId: FrameworkID): void {
    this.#registered = true;
    this.log.info({ frameworkId: frameworkId.value }, 'Registered');
    if (this.#run === undefined) this.#nextRound(driver);
  }

  reregistered(): void {
    this.log.info('Re-registered');
  }

  disconnected(): void {
    this.log.warn('Disconnected from the master; the driver re-subscribes');
  }

  resourceOffers(driver: SchedulerDriver, offers: Offer[]): void {
    const run = this.#over ? undefined : this.#run;
    const plans = offers.map((offer) => new OfferPlan(offer));
    const waiting: UnplacedTask[] = [];
    let bytes = 0;
    let throttled = false;
    for (const task of run?.pending ?? []) {
      const size = task.data?.length ?? 0;
      // Over NATS, what this call launches leaves in one bus message (see `BUS_LAUNCH_BYTES`).
      if (throttled || (bytes > 0 && bytes + size > this.#launchBytes)) {
        throttled = true;
      } else if (this.#place(task, plans)) {
        bytes += size;
        continue;
      }
      waiting.push(task);
    }
    if (run !== undefined) run.pending = waiting;
    const filters = throttled ? NEXT_CYCLE_FILTERS : run !== undefined && run.pending.length > 0 ? WAITING_FILTERS : IDLE_FILTERS;
    for (const plan of plans) {
      if (plan.tasks.length > 0) this.log.info({ agentId: plan.agentId, tasks: plan.tasks.map((t) => t.task_id.value) }, 'Launching');
      plan.submit(driver, filters);
    }
    if (run === undefined || run.pending.length === 0) driver.suppressOffers();
  }

  /** Places `task` on its worker's agent if its executor runs somewhere, else where fewest of ours run. */
  #place(task: UnplacedTask, plans: OfferPlan[]): boolean {
    const executorId = task.executor!.executor_id.value;
    const home = this.#homes.get(executorId);
    const candidates = home !== undefined ? plans.filter((p) => p.agentId === home) : [...plans].sort((a, b) => this.#workersOn(a.agentId) - this.#workersOn(b.agentId));
    for (const plan of candidates) {
      if (!plan.place(task)) continue;
      this.#homes.set(executorId, plan.agentId);
      return true;
    }
    return false;
  }

  #workersOn(agentId: string): number {
    let n = 0;
    for (const home of this.#homes.values()) if (home === agentId) n++;
    return n;
  }

  statusUpdate(_driver: SchedulerDriver, status: TaskStatus): void {
    const id = status.task_id.value;
    this.log.info({ taskId: id, state: status.state, message: status.message }, 'Status update');
    const run = this.#run;
    if (this.#over || run === undefined || !run.taskIds.has(id)) return;
    if (status.state === 'TASK_FINISHED') {
      if (!run.reported.has(id)) this.#expectReport(run, id);
    } else if (isTerminalState(status.state)) {
      const why = [status.message, status.reason].filter((s) => s !== undefined && s !== '').join('; ');
      this.#fail(`task ${id} ended ${status.state}${why !== '' ? `: ${why}` : ''}`);
    }
  }

  frameworkMessage(driver: SchedulerDriver, executorId: ExecutorID, _agentId: AgentID, data: Buffer): void {
    const report = parseCountsReport(data);
    if (report === undefined) {
      this.log.warn({ executorId: executorId.value, bytes: data.length }, 'Ignoring a framework message that is not a counts report');
      return;
    }
    const run = this.#run;
    if (this.#over || run === undefined || !run.taskIds.has(report.task) || run.reported.has(report.task)) {
      this.log.info({ taskId: report.task, part: report.part }, 'Ignoring a stale or repeated report');
      return;
    }
    let parts = run.parts.get(report.task);
    if (parts === undefined) run.parts.set(report.task, (parts = new Map()));
    parts.set(report.part, report.counts);
    if (parts.size < report.parts) return;
    for (const counts of parts.values()) mergeCounts(run.counts, counts);
    run.parts.delete(report.task);
    run.reported.add(report.task);
    if (run.reported.size === run.taskIds.size) this.#endRound(driver, run);
  }

  executorLost(_driver: SchedulerDriver, executorId: ExecutorID, agentId: AgentID, status: number): void {
    if (this.#homes.get(executorId.value) === agentId.value) this.#homes.delete(executorId.value);
    if (!this.#over) this.log.warn({ executorId: executorId.value, agentId: agentId.value, status }, 'Executor lost');
  }

  slaveLost(_driver: SchedulerDriver, agentId: AgentID): void {
    for (const [executor, home] of this.#homes) if (home === agentId.value) this.#homes.delete(executor);
    this.log.warn({ agentId: agentId.value }, 'Agent lost');
  }

  error(_driver: SchedulerDriver, message: string): void {
    this.#fail(`the master reported an error: ${message}`);
  }

  #nextRound(driver: SchedulerDriver): void {
    const round = this.#rounds[++this.#index];
    if (round === undefined) {
      this.#over = true;
      this.#resolve();
      return;
    }
    const pending: UnplacedTask[] = [];
    round.pieces.forEach((pieces, worker) => {
      const executor = typescriptExecutor(`wordcount-w${worker}`, 'word count executor', EXECUTOR_FILE, EXECUTOR_RESOURCES, this.options.verbose);
      pieces.forEach((piece, k) => {
        const id = `r${this.#index}-${round.name}-w${worker}-${k}`;
        pending.push({ name: `word count ${id}`, task_id: { value: id }, executor, resources: Resources.parse(TASK_RESOURCES).toJSON(), data: Buffer.from(piece).toString('base64') });
      });
    });
    this.#run = {
      name: round.name,
      parallelism: round.parallelism,
      timed: round.timed,
      taskIds: new Set(pending.map((t) => t.task_id.value)),
      pending,
      parts: new Map(),
      reported: new Set(),
      counts: new Map(),
      startedAt: performance.now(),
    };
    this.log.info({ round: round.name, tasks: pending.length }, 'Starting a round');
    // Undoes the previous round's suppression and decline filters: offers come at once.
    if (this.#index > 0) driver.reviveOffers();
  }

  #endRound(driver: SchedulerDriver, run: Run): void {
    const ms = performance.now() - run.startedAt;
    if (run.timed) {
      const t = totals(run.counts);
      const top = t.top !== undefined ? `${t.top[0]}:${t.top[1]}` : '-:0';
      console.log(`parallelism=${run.parallelism} tasks=${run.taskIds.size} time=${Math.round(ms)}ms words=${t.words} unique=${t.unique} top=${top}`);
      const reference = this.#reference;
      if (reference === undefined) {
        this.#reference = { parallelism: run.parallelism, counts: run.counts };
      } else if (!sameCounts(reference.counts, run.counts)) {
        const r = totals(reference.counts);
        this.#fail(`the counts differ: parallelism=${run.parallelism} counted ${t.words} words (${t.unique} distinct), parallelism=${reference.parallelism} counted ${r.words} (${r.unique} distinct)`);
        return;
      }
    } else {
      this.log.info({ round: run.name, ms: Math.round(ms) }, 'Warm-up round done: every executor runs');
    }
    this.#nextRound(driver);
  }

  /** A finished task whose counts have not all come: they may still be on their way, for a while. */
  #expectReport(run: Run, id: string): void {
    setTimeout(() => {
      if (this.#run === run && !run.reported.has(id)) this.#fail(`task ${id} finished but its counts never arrived (framework messages are best effort)`);
    }, REPORT_GRACE_MS).unref();
  }

  #fail(message: string): void {
    if (this.#over) return;
    this.#over = true;
    this.#reject(new JobFailure(message));
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const options = parseCommandLine(spec, argv, readOptions);
  if (typeof options === 'number') return options;
  const logger = exampleLogger(spec.name, options.verbose);
  return runJob(spec, options, logger, new WordCountScheduler(options, logger));
}

process.exitCode = await main(process.argv.slice(2));
