// Progress of long work (loading and warming up models) on stderr. cli-progress draws only on a
// terminal, so pipes, CI logs and tests get the plain result lines without escape codes.
import cliProgress from 'cli-progress';

export interface Progress {
  /** One more step done; `label` says which. */
  tick(label?: string): void;
  stop(): void;
}

export function startProgress(total: number, title: string): Progress {
  const bar = new cliProgress.SingleBar(
    { format: `${title} [{bar}] {value}/{total} {label}`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { label: '' });
  return {
    tick: (label = '') => bar.increment(1, { label }),
    stop: () => bar.stop(),
  };
}
