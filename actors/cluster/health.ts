import { Process } from '../../src/process/process.ts';

/** `/health` at the top level, as Mesos serves it: 200 while the runtime runs. */
export class HealthProcess extends Process {
  constructor() {
    super('health');
    this.route('', () => ({ status: 200 }));
  }
}
