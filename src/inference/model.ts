// One servable model: its descriptor, its tokenizer and its runner. Knows nothing of GraphQL,
// queues, caching or breakers: the scheduler decides when it runs, the runner runs it.
import type { ModelSpec, Task } from './model-spec.js';
import type { PostProcess, ModelRunner } from './runner.js';
import type { TextEncoder } from './text-encoder.js';

export class Model {
  constructor(
    readonly name: string,
    readonly spec: ModelSpec,
    readonly encoder: TextEncoder,
    readonly runner: ModelRunner,
    /** The weights file in use, relative to the model folder. */
    readonly file: string,
    /** The folder it was loaded from (<name>/, or <name>/<version>/). */
    readonly folder: string,
  ) {}

  /** `name@version`, as requests pin it and logs name it. */
  get ref(): string {
    return `${this.name}@${this.version}`;
  }

  get task(): Task {
    return this.spec.task;
  }

  get version(): string {
    return this.spec.version;
  }

  get executionProvider(): string {
    return this.runner.executionProvider;
  }

  /** Closes the runner once (a retired version may be closed by its drain and by shutdown). */
  close(): Promise<void> {
    return (this.closing ??= this.runner.close());
  }

  private closing: Promise<void> | undefined;
}

/** What the runner makes of the graph's output for a model of this spec. */
export function postProcessOf(spec: ModelSpec): PostProcess {
  return spec.task === 'classification'
    ? { kind: 'softmax', labels: spec.labels.length }
    : { kind: 'pool', pooling: spec.pooling, dimensions: spec.dimensions };
}
