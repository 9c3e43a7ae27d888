/**
 * The shared Mesos v1 messages (`include/mesos/v1/mesos.proto`) as JSON wire shapes, each a
 * zod schema (`OfferSchema`) plus its derived type (`Offer`). Split by concern:
 * `base.ts` (ids, values, resources, framework/master/agent info), `task.ts` (commands,
 * executors, tasks, task states and statuses) and `offer.ts` (offers, operations, filters).
 */

export * from './base.ts';
export * from './task.ts';
export * from './offer.ts';
