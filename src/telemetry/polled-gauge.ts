// A gauge whose values are read when Prometheus scrapes: cleared, then filled by `fill`, so series
// that no longer apply disappear instead of keeping their last value.
import { Gauge, type Registry } from 'prom-client';

export type SetValue<L extends string> = (labels: Partial<Record<L, string>>, value: number) => void;

export function polledGauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
  fill: (set: SetValue<L>) => void,
): Gauge<L> {
  return new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      fill((labels, value) => this.set(labels, value));
    },
  });
}
