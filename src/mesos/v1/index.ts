/**
 * Mesos v1 JSON wire shapes: the types and validators for what schedulers, executors and
 * masters exchange. Shared messages are exported by name; the scheduler and executor APIs are
 * exported as namespaces (`scheduler.Call`, `executor.Event`, as `mesos::v1::scheduler::Call`
 * in Mesos) and under prefixed names (`SchedulerCall`, `parseExecutorCall`).
 *
 * @example
 * import { parseSchedulerCall, InvalidMessageError } from './mesos/v1/index.ts';
 * try {
 *   const call = parseSchedulerCall(JSON.parse(body));
 * } catch (e) {
 *   if (e instanceof InvalidMessageError) reply(400, e.message);
 * }
 */

export * from './common.ts';
export * from './maintenance.ts';

export * as scheduler from './scheduler.ts';
export {
  parseSchedulerCall,
  parseSchedulerEvent,
  type SchedulerCall,
  type SchedulerEvent,
  CALL_TYPES as SCHEDULER_CALL_TYPES,
  EVENT_TYPES as SCHEDULER_EVENT_TYPES,
  type CallType as SchedulerCallType,
  type EventType as SchedulerEventType,
  type CallOf as SchedulerCallOf,
  type EventOf as SchedulerEventOf,
} from './scheduler.ts';

export * as executor from './executor.ts';
export {
  parseExecutorCall,
  parseExecutorEvent,
  type ExecutorCall,
  type ExecutorEvent,
  CALL_TYPES as EXECUTOR_CALL_TYPES,
  EVENT_TYPES as EXECUTOR_EVENT_TYPES,
  type CallType as ExecutorCallType,
  type EventType as ExecutorEventType,
  type CallOf as ExecutorCallOf,
  type EventOf as ExecutorEventOf,
} from './executor.ts';

export { isBase64, base64ByteLength } from './validate.ts';
export { InvalidMessageError, type MessageIssue } from '../../errors.ts';
