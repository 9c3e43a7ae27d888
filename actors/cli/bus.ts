import type { Logger } from 'pino';
import { FlagError, type FlagValue } from '../../src/cli/flags.ts';
import { NatsTransport } from '../../src/transport/nats.ts';
import { parseMasterAddress, type MasterAddress } from '../detector/address.ts';
import { InvalidMasterAddressError } from '../detector/errors.ts';
import { formatDuration } from '../agent/flags.ts';
import type { FlagSpec } from '../../src/cli/flags.ts';

/** The NATS transport `--nats` (or a `nats://` master address) asks for; none for the local bus. */
export function busTransport(flags: Record<string, FlagValue>, logger: Logger, master?: MasterAddress): NatsTransport | undefined {
  const servers = (flags.nats as string[] | undefined) ?? (master?.kind === 'nats' ? master.servers : undefined);
  if (servers === undefined) return undefined;
  if (servers.length === 0) throw new FlagError('nats', '', 'must name at least one server, e.g. nats://127.0.0.1:4222');
  for (const server of servers) {
    if (!/^(nats|tls):\/\/[^\s/]+$/.test(server)) throw new FlagError('nats', server, 'must be a NATS URL such as nats://127.0.0.1:4222');
  }
  return new NatsTransport({ servers, prefix: flags.nats_prefix as string, logger });
}

/** `--master`, parsed; a bad one is a `FlagError` (exit 2). */
export function masterAddress(flags: Record<string, FlagValue>, name = 'master'): MasterAddress | undefined {
  const value = flags[name];
  if (value === undefined) return undefined;
  try {
    return parseMasterAddress(String(value));
  } catch (error) {
    if (error instanceof InvalidMasterAddressError) throw new FlagError(name, value, error.message.replace(/^invalid master address '.*?': /, ''));
    throw error;
  }
}

/** The flags as `/master/state` shows them: every one given or defaulted, values as strings. */
export function flagsJSON(specs: readonly FlagSpec[], flags: Record<string, FlagValue>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const value = flags[spec.name];
    if (value === undefined) continue;
    out[spec.name] = spec.type === 'duration' ? formatDuration(value as number) : Array.isArray(value) ? value.join(',') : String(value);
  }
  return out;
}
