import type { Logger } from 'pino';
import type { NatsTransport } from '../../src/transport/nats.ts';
import { httpUrl, localUrl } from '../cluster/url.ts';
import type { Master } from '../master/master-process.ts';
import { LEADER_INFO_SUBJECT, LEADER_STATE_SUBJECT, STATE_FETCH_TIMEOUT_MS } from './constants.ts';
import type { LeaderInfo } from './detector.ts';

/**
 * The leading master's side of discovery: it answers, on the bus,
 *
 * 1. `<prefix>.leader.info` with its `LeaderInfo` (UPID, id, hostname, HTTP URL), what
 *    `NatsMasterDetector` asks;
 * 2. `<prefix>.leader.state` with its `/master/state`, what `mesos-ts state` asks when given no
 *    HTTP address (read from the master's own HTTP server, so both say the same).
 *
 * There is one master per cluster until leader election exists (DESIGN.md §5: a NATS KV lease);
 * then only the elected master will serve these subjects. Both are served in a queue group, so
 * even two masters by mistake give one answer per request.
 *
 * @example
 * const stop = announceLeader(transport, master);
 * // ... on shutdown:
 * stop();
 */
export function announceLeader(transport: NatsTransport, master: Master, logger?: Logger): () => void {
  const info = (): LeaderInfo => {
    const m = master.masterInfo;
    const http = master.runtime.httpAddress;
    return {
      pid: String(master.self),
      id: m.id,
      hostname: m.hostname ?? master.self.node,
      ...(http !== undefined ? { url: httpUrl(http, master.options.hostname) } : {}),
      ...(m.version !== undefined ? { version: m.version } : {}),
    };
  };
  const stopInfo = transport.serve(`${transport.prefix}.${LEADER_INFO_SUBJECT}`, () => JSON.stringify(info()));
  const stopState = transport.serve(`${transport.prefix}.${LEADER_STATE_SUBJECT}`, async () => {
    const http = master.runtime.httpAddress;
    if (http === undefined) throw new Error('the master serves no HTTP endpoints');
    const response = await fetch(`${localUrl(http)}/${master.id}/state`, { signal: AbortSignal.timeout(STATE_FETCH_TIMEOUT_MS) });
    return await response.text();
  });
  logger?.info({ subject: `${transport.prefix}.${LEADER_INFO_SUBJECT}`, master: String(master.self) }, 'Announcing the leading master on the bus');
  return () => {
    stopInfo();
    stopState();
  };
}
