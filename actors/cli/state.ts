import { logLevel, positive } from '../../src/cli/checks.ts';
import { FlagError, type FlagSpec } from '../../src/cli/flags.ts';
import { cliLogger } from '../../src/cli/logger.ts';
import { Runtime } from '../../src/process/runtime.ts';
import { NatsMasterDetector } from '../detector/detector.ts';
import { busTransport, masterAddress } from './bus.ts';
import { clientCredential, commonFlags, CREDENTIAL_FLAGS, type Command } from './commands.ts';
import { basicAuthorization, type Credential } from '../../src/http/authentication.ts';
import { summarizeState } from './state-summary.ts';

const flags: FlagSpec[] = [
  { name: 'master', type: 'string', help: 'http://host:port (fetch /master/state), or ask the leading master over --nats (nats://host:4222, or master@<node> to check who leads)' },
  { name: 'json', type: 'bool', help: 'print the raw /master/state JSON', default: false },
  { name: 'timeout', type: 'duration', help: 'how long to wait for the answer', default: '5secs' },
  ...CREDENTIAL_FLAGS,
  ...commonFlags('warn'),
];

/**
 * `mesos-ts state`: prints the cluster's state, as the leading master knows it, from its HTTP
 * endpoint (`--master http://host:port`) or asked over the bus (`--nats`, or a `nats://` master).
 * Exits 1 when no master answers.
 */
export const stateCommand: Command = {
  name: 'state',
  summary: 'print the cluster state (from --master http://host:port, or asked over --nats); --json for the raw /master/state',
  flags,
  async run(values) {
    const master = masterAddress(values);
    let state: unknown;
    try {
      state = await masterState(values);
    } catch (error) {
      if (error instanceof FlagError) throw error;
      process.stderr.write(`mesos-ts state: ${(error as Error).message}\n`);
      return 1;
    }
    if (master?.kind === 'upid') {
      const leader = (state as { pid?: unknown }).pid;
      if (leader !== String(master.upid)) {
        process.stderr.write(`mesos-ts state: ${String(master.upid)} is not the leading master (the leader is ${String(leader)})\n`);
        return 1;
      }
    }
    process.stdout.write(values.json === true ? `${JSON.stringify(state, null, 2)}\n` : `${summarizeState(state)}\n`);
    return 0;
  },
};

/**
 * The leading master's `/master/state`, from `--master http://host:port` or asked over the bus
 * (`--nats`, or a `nats://` master), within `--timeout`: what `state`, `cat` and `tail` read.
 * Throws `FlagError` for flags that cannot work together, `Error` naming the endpoint otherwise.
 */
export async function masterState(values: Parameters<Command['run']>[0]): Promise<unknown> {
  const level = logLevel(values);
  const timeoutMs = positive(values, 'timeout');
  const master = masterAddress(values);
  if (master === undefined && values.nats === undefined) {
    throw new FlagError('master', undefined, 'is required without --nats (http://host:port, or nats://host:4222)');
  }
  if (master?.kind === 'upid' && values.nats === undefined) throw new FlagError('master', String(master.upid), 'a master@<node> address needs --nats');
  return master?.kind === 'http' ? await fromHttp(master.url, timeoutMs, clientCredential(values)) : await fromBus(values, level, timeoutMs, master);
}

/**
 * `GET url` within `timeoutMs`, with HTTP Basic credentials when given; a failure to connect is
 * an `Error` naming `what` and why (fetch hides the reason, `ECONNREFUSED`, in its `cause`).
 * A `401` is an `Error` that says which credentials to give.
 */
export async function fetchOrSay(url: string, timeoutMs: number, what = url, credential?: Credential): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), ...(credential !== undefined ? { headers: { Authorization: basicAuthorization(credential) } } : {}) });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    throw new Error(`cannot reach ${what}: ${cause ?? (error as Error).message}`);
  }
  if (response.status === 401) {
    const realm = /realm="([^"]*)"/.exec(response.headers.get('www-authenticate') ?? '')?.[1];
    const reason = (await response.text()).trim();
    throw new Error(
      `${what} asks for credentials${realm !== undefined ? ` (realm '${realm}')` : ''}: ${credential === undefined ? 'give --principal and --secret' : `${reason || 'refused'} for principal '${credential.principal}'`}`,
    );
  }
  return response;
}

async function fromHttp(url: string, timeoutMs: number, credential: Credential | undefined): Promise<unknown> {
  const endpoint = `${url}/master/state`;
  const response = await fetchOrSay(endpoint, timeoutMs, endpoint, credential);
  if (!response.ok) throw new Error(`${endpoint} answered ${response.status} ${response.statusText}`);
  return (await response.json()) as unknown;
}

async function fromBus(values: Parameters<Command['run']>[0], level: string, timeoutMs: number, master: ReturnType<typeof masterAddress>): Promise<unknown> {
  const logger = cliLogger(level);
  const transport = busTransport(values, logger, master);
  if (transport === undefined) throw new Error('no bus to ask on');
  const runtime = await Runtime.start({ transport, logger });
  try {
    return await new NatsMasterDetector(transport, { logger }).state(timeoutMs);
  } finally {
    await runtime.shutdown();
  }
}
