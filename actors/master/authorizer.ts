import type { TaskInfo } from '../../src/mesos/v1/common.ts';
import type { AuthorizedAction, LocalAuthorizer } from '../cluster/acls.ts';
import type { FrameworkRecord } from './state.ts';

/**
 * The master's side of `--acls`: the ACLs themselves, how they are read and decided, are shared
 * with the agent (`actors/cluster/acls.ts`, re-exported here).
 */
export { AUTHORIZED_ACTIONS, InvalidAclsError, LocalAuthorizer, parseAcls, readAcls, type Acl, type AclEntity, type AuthorizedAction } from '../cluster/acls.ts';

/** `authorizer.authorized(...)`, or true when the master has no ACLs (Mesos without `--acls`). */
export function authorized(m: { readonly options: { readonly authorizer?: LocalAuthorizer | undefined } }, action: AuthorizedAction, principal: string | undefined, object?: string): boolean {
  return m.options.authorizer?.authorized(action, principal, object) ?? true;
}

/**
 * The user a task runs as, which `run_tasks` ACLs authorize (Mesos's `authorizeTask`): its
 * command's, else its executor's command's, else the framework's.
 */
export function taskUser(framework: FrameworkRecord, task: TaskInfo): string {
  return task.command?.user ?? task.executor?.command?.user ?? framework.info.user;
}
