import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * The root logger of a program: pino, pretty and colored in a terminal, JSON lines otherwise.
 * The level comes from `MESOS_TS_LOG_LEVEL` (default `info`), or `options.level`.
 * Processes log through `logger.child({ pid })`, so every line names its process.
 */
export function createLogger(options: { level?: string; pretty?: boolean; name?: string } = {}): Logger {
  const level = options.level ?? process.env.MESOS_TS_LOG_LEVEL ?? 'info';
  const usePretty = options.pretty ?? (process.stdout.isTTY === true && process.env.MESOS_TS_LOG_FORMAT !== 'json');
  const base = { name: options.name };
  if (usePretty) {
    const stream = pretty({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'hostname,pid', sync: true });
    return pino({ level, base }, stream);
  }
  return pino({ level, base });
}

let root: Logger | undefined;

/** A lazily created process-wide logger, for code given none. */
export function defaultLogger(): Logger {
  root ??= createLogger();
  return root;
}
