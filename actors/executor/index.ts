/**
 * What frameworks import to write an executor: the driver, the callbacks interface and the
 * command that runs a TypeScript executor file. What the agent uses to launch executors
 * (`launchCommandExecutor`, `executorEnvironment`, `executorNodeName`) lives in
 * `command-executor.ts` and `environment.ts`.
 */
export { ExecutorDriver, nodeExecutorCommand, type DriverStatus, type Executor, type ExecutorDriverOptions } from './executor-driver.ts';
export { ExecutorEnvironmentError } from './errors.ts';
