// Versions side by side: the repository layout (<name>/<version>/ beside single folders), rollout.json,
// pinning with name@version, and the canary's sticky share; real tiny ONNX models, loaded in-process.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelLoadError, ModelNotFoundError } from '../../src/errors/errors.js';
import { ModelRegistry } from '../../src/inference/model-registry.js';
import { readLayout } from '../../src/inference/repository/layout.js';
import { canaryPoint } from '../../src/inference/rollout/model-routes.js';
import { compareVersions } from '../../src/inference/rollout/rollout-file.js';
import { addTinyClassifier, addTinyVersion, makeRepo, SWAPPED_LABELS, writeRollout } from '../support/model-repo.js';
import { localRunner } from '../support/runners.js';

const loadOptions = { openRunner: localRunner(), variantOf: () => 'fp32' as const, log: () => undefined };

async function load(repo: string): Promise<ModelRegistry> {
  const registry = await ModelRegistry.discover(repo);
  const problem = (await registry.inspect(() => 'fp32')).find((r) => r.error);
  if (problem) throw problem.error;
  await registry.loadAll(loadOptions);
  return registry;
}

async function loadError(repo: string): Promise<string> {
  const error = await load(repo).then(
    (r) => r.close(),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelLoadError);
  return (error as Error).message;
}

/** A binomial count's acceptance interval: mean ± z standard deviations (z = 4.5: a false alarm about once in 150,000 runs). */
function binomialBounds(n: number, p: number, z = 4.5): [number, number] {
  const sd = Math.sqrt(n * p * (1 - p));
  return [n * p - z * sd, n * p + z * sd];
}

describe('the repository layout', () => {
  it('reads single folders as before and <name>/<version>/ folders as versions of one model', async () => {
    const repo = await makeRepo();
    await addTinyClassifier(repo, 'plain');
    await addTinyVersion(repo, 'sentiment', '1.0.0');
    await addTinyVersion(repo, 'sentiment', '1.10.0');
    await mkdir(path.join(repo, 'scripts'));
    const layout = await readLayout(repo);
    expect(layout.models.map((m) => [m.name, m.layout, m.versions.map((v) => v.version)])).toEqual([
      ['plain', 'single', [undefined]],
      ['sentiment', 'versions', ['1.0.0', '1.10.0']],
    ]);
  });

  it('orders versions by their numbers: 1.9.0 < 1.10.0, v2 < v10', () => {
    expect(['1.10.0', '1.9.0', '1.0.0'].sort(compareVersions)).toEqual(['1.0.0', '1.9.0', '1.10.0']);
    expect(['v10', 'v2'].sort(compareVersions)).toEqual(['v2', 'v10']);
  });

  it('refuses folders that would be ambiguous, naming the folder and the fix', async () => {
    const at = await makeRepo();
    await addTinyClassifier(at, 'spam@2');
    expect(await loadError(at)).toContain('"spam@2" cannot be a model name: "@" separates a name from a version in requests (rename the folder)');

    const mixed = await makeRepo();
    await addTinyClassifier(mixed, 'spam');
    await addTinyClassifier(path.join(mixed, 'spam'), '2.0.0');
    expect(await loadError(mixed)).toMatch(/spam: has model files of its own and version folders \(2\.0\.0\/\): move its own files into a version folder too \(e\.g\. spam\/1\.0\.0\/\)/);

    const single = await makeRepo();
    await addTinyClassifier(single, 'spam');
    await writeRollout(single, 'spam', { serving: '1' });
    expect(await loadError(single)).toContain('rollout.json is for models with version folders (spam/<version>/); a single-folder model has one version');

    const contradicting = await makeRepo();
    await addTinyVersion(contradicting, 'spam', '2.0.0', { modelJson: { version: '2.1.0' } });
    expect(await loadError(contradicting)).toContain(
      'model.json version "2.1.0" differs from the version folder\'s name "2.0.0": the folder name is the version; remove "version" from model.json or make them equal',
    );
  });
});

describe('rollout.json', () => {
  const repoWith = async (rollout: Record<string, unknown>) => {
    const repo = await makeRepo();
    await addTinyVersion(repo, 'spam', '1.0.0');
    await addTinyVersion(repo, 'spam', '2.0.0');
    await writeRollout(repo, 'spam', rollout);
    return repo;
  };

  it('is checked against the version folders, with the fix in the message', async () => {
    expect(await loadError(await repoWith({ serving: '3.0.0' }))).toContain('rollout.json serving "3.0.0" is not one of its version folders (1.0.0, 2.0.0)');
    expect(await loadError(await repoWith({ serving: '1.0.0', canary: { version: '1.0.0', share: 0.1 } }))).toContain(
      'rollout.json canary "1.0.0" is the serving version: name another version, or remove "canary"',
    );
    expect(await loadError(await repoWith({ canary: { version: '1.0.0', share: 1.5 } }))).toMatch(
      /rollout\.json is invalid: canary\.share: Too big.*; it may hold "serving", "canary": \{"version", "share"\} and "shadow": \{"version", "sample"\}/,
    );
    expect(await loadError(await repoWith({ serving: '1.0.0', shaddow: {} }))).toMatch(/rollout\.json is invalid: .*shaddow/);
  });

  it('refuses a canary whose labels differ from the serving version (clients would get either by chance)', async () => {
    const repo = await makeRepo();
    await addTinyVersion(repo, 'spam', '1.0.0');
    await addTinyVersion(repo, 'spam', '2.0.0', SWAPPED_LABELS);
    await writeRollout(repo, 'spam', { serving: '1.0.0', canary: { version: '2.0.0', share: 0.5 } });
    expect(await loadError(repo)).toContain('canary 2.0.0 has labels [spam,ham], serving 1.0.0 does not');
    // As a shadow it may differ: its answers are only compared.
    await writeRollout(repo, 'spam', { serving: '1.0.0', shadow: { version: '2.0.0', sample: 1 } });
    const registry = await load(repo);
    expect(registry.versionsOf('spam').map((v) => [v.version, v.state])).toEqual([
      ['1.0.0', 'SERVING'],
      ['2.0.0', 'SHADOW'],
    ]);
    await registry.close();
  });
});

describe('choosing a version', () => {
  it('serves the highest version without rollout.json; name@version pins any loaded version', async () => {
    const repo = await makeRepo();
    await addTinyVersion(repo, 'spam', '1.9.0');
    await addTinyVersion(repo, 'spam', '1.10.0', SWAPPED_LABELS);
    await addTinyClassifier(repo, 'other', { modelJson: { version: '7' } });
    const registry = await load(repo);
    expect(registry.get('spam')!.version).toBe('1.10.0');
    expect(registry.resolve('spam', 'classification').pick('the cat').version).toBe('1.10.0');
    const pinned = registry.resolve('spam@1.9.0', 'classification');
    expect(pinned.pinned).toBe(true);
    expect(pinned.pick('the cat').version).toBe('1.9.0');
    expect(registry.resolve('other@7', 'classification').pick('x').name).toBe('other');
    expect(registry.versionsOf('spam').map((v) => [v.version, v.state, v.share])).toEqual([
      ['1.9.0', 'STANDBY', 0],
      ['1.10.0', 'SERVING', 1],
    ]);
    let unknown: unknown;
    try {
      registry.resolve('spam@3', 'classification');
    } catch (e) {
      unknown = e;
    }
    expect(unknown).toBeInstanceOf(ModelNotFoundError);
    expect((unknown as Error).message).toBe('model "spam@3" does not exist; available: spam@1.9.0, spam@1.10.0');
    await registry.close();
  });

  it('sends the canary its share of distinct texts (binomial bounds over 2,000 texts), the same version for the same text every time', async () => {
    const repo = await makeRepo();
    await addTinyVersion(repo, 'spam', '1.0.0');
    await addTinyVersion(repo, 'spam', '2.0.0');
    await writeRollout(repo, 'spam', { serving: '1.0.0', canary: { version: '2.0.0', share: 0.2 } });
    const registry = await load(repo);
    const choice = registry.resolve(null, 'classification');
    const texts = Array.from({ length: 2000 }, (_, i) => `message ${i} about ${(i * 7919) % 1000}`);
    const canary = texts.filter((t) => choice.pick(t).version === '2.0.0');
    const [low, high] = binomialBounds(2000, 0.2);
    expect(canary.length).toBeGreaterThan(low);
    expect(canary.length).toBeLessThan(high);
    for (const t of texts.slice(0, 200)) expect(choice.pick(t)).toBe(choice.pick(t));
    // A larger share keeps every text the smaller one gave the canary.
    for (const t of canary) expect(canaryPoint('spam', t)).toBeLessThan(0.2);
    expect(texts.filter((t) => canaryPoint('spam', t) < 0.5).length).toBeGreaterThan(canary.length);
    await registry.close();
  });
});

describe('a single-folder repository', () => {
  it('works as before: one version from model.json, the default resolved by name', async () => {
    const repo = await makeRepo();
    await addTinyClassifier(repo, 'tiny', { modelJson: { version: '3.1.4' } });
    await writeFile(path.join(repo, 'README.md'), 'not a model');
    const registry = await load(repo);
    expect(registry.names).toEqual(['tiny']);
    expect(registry.versionsOf('tiny').map((v) => [v.version, v.state])).toEqual([['3.1.4', 'SERVING']]);
    expect(registry.resolve(null, 'classification').pick('x').version).toBe('3.1.4');
    await registry.close();
  });
});
