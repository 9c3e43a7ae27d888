import type { Logger } from 'pino';
import type { NatsTransport } from '../../src/transport/nats.ts';
import { httpUrl, localUrl } from '../cluster/url.ts';
import type { Master } from '../master/master-process.ts';
import { LEADER_INFO_SUBJECT, LEADER_STATE_SUBJECT, STATE_FETCH_TIMEOUT_MS } from './constants.ts';
import type { LeaderInfo } from './detector.ts';

/**
 * What a master tells who asks who leads: its `LeaderInfo` (UPID, id, hostname, HTTP URL). The
 * leading master serves it on the bus (`announceLeader`) and a contending one writes it in the
 * election key (`contender.ts`), so that standbys know whom to redirect to.
 */
export function leaderInfo(master: Master): LeaderInfo {
  const m = master.masterInfo;
  const http = master.runtime.httpAddress;
  return {
    pid: String(master.self),
    id: m.id,
    hostname: m.hostname ?? master.self.node,
    ...(http !== undefined ? { url: httpUrl(http, master.options.hostname) } : {}),
    ...(m.version !== undefined ? { version: m.version } : {}),
  };
}

/**
 * The leading master's side of discovery: it answers, on the bus,
 *
 * 1. `<prefix>.leader.info` with its `LeaderInfo` (`leaderInfo`), what `NatsMasterDetector`
 *    asks;
 * 2. `<prefix>.leader.state` with its `/master/state`, what `mesos-ts state` asks when given no
 *    HTTP address (read from the master's own HTTP server, so both say the same).
 *
 * Only the elected master serves these subjects: with several masters (leader election,
 * `contender.ts`) a master starts announcing when elected and stops when it loses the lead or
 * shuts down (`startMasterNode`). Both are served in a queue group, so that even two masters by
 * mistake give one answer per request.
 *
 * @example
 * const stop = announceLeader(transport, master);
 * // ... on shutdown, or when the lead is lost:
 * stop();
 */
export function announceLeader(transport: NatsTransport, master: Master, logger?: Logger): () => void {
  const stopInfo = transport.serve(`${transport.prefix}.${LEADER_INFO_SUBJECT}`, () => JSON.stringify(leaderInfo(master)));
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
