import { Process } from './process.ts';

/**
 * Serves the runtime's metrics, as libprocess's `metrics` process:
 * `/metrics/snapshot` in Mesos's JSON shape and `/metrics` in Prometheus text, both in the
 * runtime's read-only realm (`Runtime.readonlyRealm`) as libprocess's are.
 */
export class MetricsProcess extends Process {
  constructor() {
    super('metrics');
    this.route('/snapshot', () => ({ status: 200, body: this.metrics.snapshot() }), () => this._runtime?.readonlyRealm);
    this.route('', () => ({
      status: 200,
      headers: { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' },
      body: this.metrics.prometheus(),
    }), () => this._runtime?.readonlyRealm);
  }
}
