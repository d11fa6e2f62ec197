// One model's loaded versions and how requests for its plain name are shared among them. A text goes
// to the canary when a hash of the model name and the text falls below the canary's share: sticky per
// text, not random. The same text then always gets the same version's answer (a retry or a repeat
// never flips between versions), each text is computed and cached by one version only (cache keys
// include the version, so a random split would compute and cache popular texts twice), and raising
// the share keeps every text already on the canary there. The share is therefore a share of distinct
// texts; it approaches the share of requests when texts rarely repeat.
import { hash } from 'node:crypto';
import type { Model } from '../model.js';
import type { Rollout } from './rollout-file.js';

/** The part of the texts of `name` a text falls into: a number in [0, 1), fixed for a name and text. */
export function canaryPoint(name: string, text: string): number {
  const digest = hash('sha256', `canary\u0000${name}\u0000${text}`, 'buffer');
  return digest.readUInt32BE(0) / 2 ** 32;
}

/** How a loaded version takes part in its model's traffic. */
export type Role = 'SERVING' | 'CANARY' | 'SHADOW' | 'STANDBY';

export class ModelRoutes {
  readonly serving: Model;
  readonly canary: { model: Model; share: number } | undefined;
  readonly shadow: { model: Model; sample: number } | undefined;

  constructor(
    readonly name: string,
    /** Every loaded version, by version; each answers `name@version`. */
    readonly versions: ReadonlyMap<string, Model>,
    readonly rollout: Rollout,
  ) {
    const get = (v: string) => {
      const model = versions.get(v);
      if (!model) throw new Error(`rollout of ${name} names version ${v}, which is not loaded`);
      return model;
    };
    this.serving = get(rollout.serving);
    this.canary = rollout.canary && { model: get(rollout.canary.version), share: rollout.canary.share };
    this.shadow = rollout.shadow && { model: get(rollout.shadow.version), sample: rollout.shadow.sample };
  }

  /** The version that answers `text` for a request naming the model without a version. */
  pick(text: string): Model {
    const canary = this.canary;
    if (!canary || canary.share <= 0) return this.serving;
    if (canary.share >= 1) return canary.model;
    return canaryPoint(this.name, text) < canary.share ? canary.model : this.serving;
  }

  roleOf(model: Model): Role | undefined {
    if (model === this.serving) return 'SERVING';
    if (model === this.canary?.model) return 'CANARY';
    if (model === this.shadow?.model) return 'SHADOW';
    return [...this.versions.values()].includes(model) ? 'STANDBY' : undefined;
  }

  /** Share of plain-name texts a version answers (serving: what the canary leaves). */
  shareOf(model: Model): number {
    const canary = this.canary?.share ?? 0;
    if (model === this.serving) return 1 - canary;
    if (model === this.canary?.model) return canary;
    return 0;
  }

  /** The versions plain-name requests can reach (for estimates that must hold for either). */
  get reachable(): Model[] {
    return this.canary && this.canary.share > 0 ? [this.serving, this.canary.model] : [this.serving];
  }
}
