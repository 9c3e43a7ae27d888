import { UPID } from '../../src/process/upid.ts';
import { InvalidMasterAddressError } from './errors.ts';

/**
 * The forms of a master address a framework, an agent or a CLI command accepts:
 *
 * - `master@node`: a master's UPID, reached over the bus the caller is on (`--nats`);
 * - `nats://host:4222[,nats://more:4222]`: a NATS bus, on which the leading master is discovered
 *   (`NatsMasterDetector`);
 * - `http://host:port`: a master's HTTP endpoint (operator endpoints such as `/master/state`;
 *   the scheduler HTTP API is served there too).
 */
export type MasterAddress =
  | { readonly kind: 'upid'; readonly upid: UPID }
  | { readonly kind: 'nats'; readonly servers: string[] }
  | { readonly kind: 'http'; readonly url: string };

/**
 * Parses a master address.
 *
 * @example
 * parseMasterAddress('master@m1'); // { kind: 'upid', upid: master@m1 }
 * parseMasterAddress('nats://10.0.0.1:4222,nats://10.0.0.2:4222'); // { kind: 'nats', servers: [...] }
 * parseMasterAddress('http://10.0.0.1:5050/'); // { kind: 'http', url: 'http://10.0.0.1:5050' }
 */
export function parseMasterAddress(text: string): MasterAddress {
  const value = text.trim();
  if (value === '') throw new InvalidMasterAddressError(text, 'must not be empty');
  if (/^(nats|tls):\/\//.test(value)) {
    const servers = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    for (const server of servers) {
      if (!/^(nats|tls):\/\/[^\s/]+$/.test(server)) throw new InvalidMasterAddressError(text, `'${server}' is not a NATS URL such as nats://host:4222`);
    }
    return { kind: 'nats', servers };
  }
  if (/^https?:\/\//.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new InvalidMasterAddressError(text, 'is not a valid URL');
    }
    return { kind: 'http', url: `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}` };
  }
  if (/^[a-z]+:\/\//.test(value)) {
    throw new InvalidMasterAddressError(text, "use 'master@node', 'nats://host:4222' or 'http://host:port'");
  }
  const upid = UPID.tryParse(value);
  if (upid === undefined) throw new InvalidMasterAddressError(text, "use 'master@node', 'nats://host:4222' or 'http://host:port'");
  return { kind: 'upid', upid };
}
