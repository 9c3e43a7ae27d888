import { AllocatorProcess, type AllocatorOptions } from '../../actors/allocator/allocator-process.ts';

export type AllocatorChoice = Omit<AllocatorOptions, 'master'>;

/** The allocator a test cluster's master talks to (`allocator@<master node>`). */
export function makeAllocator(options: AllocatorChoice | undefined, master: string): AllocatorProcess {
  return new AllocatorProcess({ ...options, master });
}
