/**
 * What the hierarchical allocation (`hierarchical.ts`) takes and gives: the offers of a cycle,
 * the resources frameworks already use when an agent or a framework is added, how a framework
 * subscribes, the allocation's options and the view of one agent's books. Plain data, so that
 * the actor, the benchmarks and the tests share them without the policy's internals.
 */

import type { Resources } from '../../src/mesos/resources.ts';
import type { SorterFactory } from './sorter/sorter.ts';

/** Resources of one agent offered to one framework for one role. */
export interface Offer {
  readonly frameworkId: string;
  readonly role: string;
  readonly agentId: string;
  readonly resources: Resources;
}

/**
 * Resources a framework already uses on an agent when one of the two is added (after a master
 * failover, or a framework re-subscribing). `role` defaults to the framework's first role.
 */
export interface Used {
  readonly frameworkId: string;
  readonly agentId: string;
  readonly role?: string | undefined;
  readonly resources: Resources;
}

/** How a framework subscribes. */
export interface FrameworkOptions {
  /** The roles the framework is offered resources for. */
  readonly roles: Iterable<string>;
  /** Roles (among `roles`) the framework does not want offers for until it revives. */
  readonly suppressedRoles?: Iterable<string> | undefined;
  /** Whether it is connected; an inactive framework keeps its allocation but gets no offers. */
  readonly active?: boolean | undefined;
  /** What it already uses on agents added before (`agentId` of each entry; `frameworkId` is ignored). */
  readonly used?: Iterable<Omit<Used, 'frameworkId'>> | undefined;
  /**
   * Its `FrameworkInfo.capabilities` types (`GPU_RESOURCES`, ...). Without `GPU_RESOURCES` it is
   * not offered agents that have GPUs, as in Mesos (MESOS-5634). Absent: not known, nothing is
   * withheld for want of a capability.
   */
  readonly capabilities?: Iterable<string> | undefined;
}

export interface HierarchicalAllocationOptions {
  /** Makes the sorter of roles; weighted DRF by default. */
  readonly roleSorter?: SorterFactory | undefined;
  /** Makes the sorter of the frameworks within one role; DRF by default. */
  readonly frameworkSorter?: SorterFactory | undefined;
  /**
   * `--min_allocatable_resources`: offers must hold one of these sets of quantities;
   * `DEFAULT_MIN_ALLOCATABLE_RESOURCES` (`cpus:0.01|mem:32`) by default, `''` for no minimum.
   */
  readonly minAllocatableResources?: string | undefined;
  /** `--filter_gpu_resources`: agents with GPUs go only to `GPU_RESOURCES` frameworks; default true. */
  readonly filterGpuResources?: boolean | undefined;
}

/** A view of one agent's resources. */
export interface AgentResources {
  readonly total: Resources;
  readonly allocated: Resources;
  readonly available: Resources;
}
