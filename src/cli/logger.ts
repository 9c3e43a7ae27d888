import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * The logger of a CLI command: pino on stderr (pretty and colored when stderr is a terminal,
 * JSON lines otherwise, or always with `MESOS_TS_LOG_FORMAT=json`), so that stdout carries only
 * what the command prints for its user (`mesos-ts execute`'s status updates, `mesos-ts state`).
 */
export function cliLogger(level: string, name = 'mesos-ts'): Logger {
  const base = { name };
  if (process.stderr.isTTY === true && process.env.MESOS_TS_LOG_FORMAT !== 'json') {
    return pino({ level, base }, pretty({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'hostname,pid', sync: true, destination: 2 }));
  }
  return pino({ level, base }, pino.destination({ fd: 2, sync: true }));
}
