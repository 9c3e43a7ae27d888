import { hostname as osHostname } from 'node:os';

/**
 * The URL others reach an HTTP server at: its address, or, when it listens on every interface
 * (`0.0.0.0`, `::`), the advertised `hostname` (`--hostname`, default the machine's).
 *
 * @example
 * httpUrl({ host: '0.0.0.0', port: 5050 }, '10.0.0.1'); // 'http://10.0.0.1:5050'
 */
export function httpUrl(address: { host: string; port: number }, hostname?: string): string {
  const host = address.host === '0.0.0.0' || address.host === '::' ? (hostname ?? osHostname()) : address.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/** The URL a server is reached at from its own machine (loopback when it listens everywhere). */
export function localUrl(address: { host: string; port: number }): string {
  return httpUrl(address.host === '0.0.0.0' ? { ...address, host: '127.0.0.1' } : address.host === '::' ? { ...address, host: '::1' } : address);
}
