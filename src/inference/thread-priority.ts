// Lowers the calling thread's scheduling priority, so that a worker thread yields the CPU to the event
// loop. On Linux a priority set with pid 0 applies to the calling thread only, and threads it starts
// afterwards (onnxruntime's pool) inherit it.
import { getPriority, setPriority } from 'node:os';

/** Lowers this thread by `steps` nice steps (capped at 19); where that is not permitted, does nothing. */
export function lowerThreadPriority(steps: number): void {
  if (steps <= 0) return;
  try {
    setPriority(0, Math.min(19, getPriority(0) + steps));
  } catch {
    /* not permitted here: run at normal priority */
  }
}
