import { Process } from './process.ts';

/**
 * Serves the runtime's metrics, as libprocess's `metrics` process:
 * `/metrics/snapshot` in Mesos's JSON shape and `/metrics` in Prometheus text.
 */
export class MetricsProcess extends Process {
  constructor() {
    super('metrics');
    this.route('/snapshot', () => ({ status: 200, body: this.metrics.snapshot() }));
    this.route('', () => ({
      status: 200,
      headers: { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' },
      body: this.metrics.prometheus(),
    }));
  }
}
