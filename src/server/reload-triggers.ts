// What starts a model reload: the watch, which stats the model repository every
// MODELS_WATCH_INTERVAL_MS and reloads once a change has stayed unchanged for
// MODELS_RELOAD_DEBOUNCE_MS (a folder still being copied is not loaded half-written), and SIGHUP
// (run-server.ts), which reloads at once. Polling rather than inotify: it sees changes through
// links, bind mounts and Kubernetes volume swaps alike, and costs a few stat calls per model file.
import { layoutStamp, readLayout } from '../inference/repository/layout.js';

export interface WatchOptions {
  dir: string;
  intervalMs: number;
  debounceMs: number;
  /** The repository's stamp as it was loaded (changes since start-up are reloaded too). */
  loadedStamp: string;
}

export class RepositoryWatch {
  private timer: NodeJS.Timeout | undefined;
  private applied: string;
  private candidate: string | undefined;
  private stopped = false;

  constructor(
    private readonly options: WatchOptions,
    private readonly reload: (trigger: string) => Promise<unknown>,
  ) {
    this.applied = options.loadedStamp;
  }

  start(): void {
    if (this.options.intervalMs > 0) this.schedule(this.options.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const stamp = await readLayout(this.options.dir).then(layoutStamp, () => undefined);
    if (stamp === undefined || stamp === this.applied) {
      this.candidate = undefined;
      return this.schedule(this.options.intervalMs);
    }
    if (stamp !== this.candidate && this.options.debounceMs > 0) {
      // Changed since the last look: wait until it holds still.
      this.candidate = stamp;
      return this.schedule(this.options.debounceMs);
    }
    this.candidate = undefined;
    this.applied = stamp;
    await this.reload('watch').catch(() => undefined);
    this.schedule(this.options.intervalMs);
  }
}
