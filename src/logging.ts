import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * The root logger of a program: pino on standard error (as Mesos logs to stderr, leaving stdout
 * to the program's output), pretty and colored in a terminal, JSON lines otherwise
 * (`MESOS_TS_LOG_FORMAT=json` forces JSON). The level comes from `options.level`, else
 * `MESOS_TS_LOG_LEVEL`, else `info`. Processes log through `logger.child({ pid })`, so every
 * line names its process.
 */
export function createLogger(options: { level?: string; pretty?: boolean; name?: string } = {}): Logger {
  const level = options.level ?? process.env.MESOS_TS_LOG_LEVEL ?? 'info';
  const usePretty = options.pretty ?? (process.stderr.isTTY === true && process.env.MESOS_TS_LOG_FORMAT !== 'json');
  const base = { name: options.name };
  if (usePretty) {
    // One line per event, led by the process that logged it (`master@node`); other fields follow.
    const stream = pretty({
      colorize: true,
      translateTime: 'HH:MM:ss.l',
      ignore: 'hostname,pid,node,name',
      messageFormat: '{if pid}{pid}: {end}{msg}',
      singleLine: true,
      sync: true,
      destination: 2,
    });
    return pino({ level, base }, stream);
  }
  return pino({ level, base }, pino.destination({ fd: 2, sync: true }));
}

let root: Logger | undefined;

/** A lazily created process-wide logger, for code given none. */
export function defaultLogger(): Logger {
  root ??= createLogger();
  return root;
}
