import { Resources } from '../../src/mesos/resources.ts';
import type { ExecutorInfo, FrameworkInfo } from '../../src/mesos/v1/common.ts';
import type { AuthorizedAction, LocalAuthorizer } from './acls.ts';

/**
 * The decisions of one principal's ACLs over the objects of one request, as Mesos's
 * `ObjectApprovers`: what the master's state endpoints (`actors/master/view-approvers.ts`) and
 * the agent's (`actors/agent/authorization.ts`) ask of `--acls`, each decision taken once per
 * request (the ACLs never change while a process runs).
 *
 * 1. `view_frameworks`: by the framework's `FrameworkInfo.user`.
 * 2. `view_executors`: by the executor's command user, else its framework's.
 * 3. `view_tasks`: by the user a task runs as (`task(user)`; the master and the agent each say
 *    how they know it).
 * 4. `view_roles` and `get_quotas`: by the role; `resources` leaves out reservations to roles
 *    not viewable.
 * 5. `access_sandboxes`: by the user whose sandbox it is.
 */
export class ObjectApprovers {
  /** Decisions taken, by action and object. */
  readonly #decided = new Map<string, boolean>();

  constructor(
    private readonly authorizer: LocalAuthorizer,
    readonly principal: string | undefined,
  ) {}

  /** Whether the principal may do `action` on `object`. */
  approved(action: AuthorizedAction, object: string): boolean {
    const key = `${action}\u0000${object}`;
    let decision = this.#decided.get(key);
    if (decision === undefined) {
      decision = this.authorizer.authorized(action, this.principal, object);
      this.#decided.set(key, decision);
    }
    return decision;
  }

  /** `view_frameworks`: by the framework's user. */
  framework(info: FrameworkInfo): boolean {
    return this.approved('view_frameworks', info.user);
  }

  /** `view_tasks`: by the user the task runs as. */
  taskOf(user: string): boolean {
    return this.approved('view_tasks', user);
  }

  /** `view_executors`: by the executor's command user, else the framework's. */
  executor(framework: FrameworkInfo, executor: ExecutorInfo): boolean {
    return this.approved('view_executors', executor.command?.user ?? framework.user);
  }

  /** `view_roles`. */
  role(role: string): boolean {
    return this.approved('view_roles', role);
  }

  /** `get_quotas`. */
  quota(role: string): boolean {
    return this.approved('get_quotas', role);
  }

  /** `access_sandboxes`: by the user the sandbox belongs to. */
  sandbox(user: string): boolean {
    return this.approved('access_sandboxes', user);
  }

  /**
   * `resources` without those reserved (at any level of a refined reservation) to a role not
   * viewable; when nothing is left out, `resources` itself.
   */
  resources(resources: Resources): Resources {
    const entries = resources.entries();
    const kept = entries.filter((e) => e.reservations.every((r) => this.role(r.role)));
    return kept.length === entries.length ? resources : Resources.fromEntries(kept);
  }
}

/** The `items` that `approve` lets `approvers` see; `items` itself without approvers (no `--acls`). */
export function viewable<T, A extends ObjectApprovers>(approvers: A | undefined, items: T[], approve: (approvers: A, item: T) => boolean): T[] {
  return approvers === undefined ? items : items.filter((item) => approve(approvers, item));
}
