// `models import` as a user runs it: exports laid out as Optimum, transformers.js and
// sentence-transformers lay them out go into a model repository beside the built-in models, report
// what they read from which file, and a gateway started on that repository serves them. Refusals
// leave the repository untouched and say why, exactly.
import { execFile } from 'node:child_process';
import { cp, lstat, mkdtemp, readdir, readlink, rm, symlink, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../src/errors/errors.js';
import { ImportError, importModel } from '../../src/inference/model-import.js';
import { ClassifyDocument, EmbedDocument, ModelsDocument } from '../generated/graphql.js';
import { copyExport, EXPORTS } from '../support/exports.js';
import { deployedEnv, REPO, startGatewayProcess } from '../support/gateway-process.js';
import { execute } from '../support/graphql-client.js';
import { SETTINGS as settings } from '../support/runners.js';

const run = promisify(execFile);

/** A repository holding the built-in models, as MODELS_DIR would in production. */
async function repoWithBuiltIns(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'nlp-repo-'));
  for (const m of ['spam-bert', 'spam-linear', 'glove-embed-100d']) await symlink(path.join(REPO, 'models', m), path.join(dir, m));
  return dir;
}

const entries = (dir: string) => readdir(dir).then((e) => e.sort());

describe('importing exports', () => {
  it('copies an Optimum export, a transformers.js export and a sentence-transformers export; a gateway serves them', async () => {
    const repo = await repoWithBuiltIns();
    const bert = await importModel({ source: path.join(EXPORTS, 'bert'), modelsDir: repo, name: 'sentiment-en', settings });
    expect(bert).toMatchObject({ name: 'sentiment-en', destination: path.join(repo, 'sentiment-en'), mode: 'copied', files: 7 });
    expect(bert.loaded.map((l) => [l.variant, l.file])).toEqual([['fp32', 'model.onnx'], ['quantized', 'model_quantized.onnx']]);
    expect(bert.readFrom.task).toEqual({ value: 'classification', from: 'config.json architectures [BertForSequenceClassification]' });
    expect(bert.readFrom.labels).toEqual({ value: 'NEGATIVE, POSITIVE', from: 'config.json id2label' });
    const xlmr = await importModel({ source: path.join(EXPORTS, 'xlm-roberta'), modelsDir: repo, settings });
    expect(xlmr.loaded.map((l) => l.file)).toEqual(['onnx/model.onnx', 'onnx/model_quantized.onnx']);
    const mpnet = await importModel({ source: path.join(EXPORTS, 'mpnet'), modelsDir: repo, settings });
    expect(mpnet.readFrom.pooling!.from).toBe('1_Pooling/config.json pooling_mode_mean_tokens');
    expect(mpnet.readFrom.dimensions).toEqual({ value: '32', from: 'onnx/model.onnx output last_hidden_state' });
    // Nothing half-imported stays behind (staging folders are hidden and renamed into place).
    expect(await entries(repo)).toEqual(['glove-embed-100d', 'mpnet', 'sentiment-en', 'spam-bert', 'spam-linear', 'xlm-roberta']);

    const gw = await startGatewayProcess({ MODELS_DIR: repo, INFERENCE_WORKERS: '1' });
    try {
      await gw.waitReady(120_000);
      const models = await execute(gw.url, ModelsDocument);
      const byName = new Map(models.data!.models.map((m) => [m.name, m]));
      expect(byName.get('sentiment-en')).toMatchObject({ task: 'CLASSIFICATION', labels: ['NEGATIVE', 'POSITIVE'], default: false, maxTokens: 64 });
      expect(byName.get('xlm-roberta')).toMatchObject({ labels: ['negative', 'neutral', 'positive'], version: xlmr.readFrom.version!.value });
      expect(byName.get('spam-bert')!.default).toBe(true);
      const classified = await execute(gw.url, ClassifyDocument, { text: 'Der Zug fährt um acht Uhr ab.', model: 'xlm-roberta' });
      expect(classified.data!.classify.model.name).toBe('xlm-roberta');
      const embedded = await execute(gw.url, EmbedDocument, { text: 'The cat sat on the mat.', model: 'mpnet' });
      expect(embedded.data!.embed.dimensions).toBe(32);
      // Two embedders (glove-embed-100d marked default): requests without a model still go to the default.
      const dflt = await execute(gw.url, EmbedDocument, { text: 'The cat sat on the mat.' });
      expect(dflt.data!.embed.model.name).toBe('glove-embed-100d');
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  });

  it('links instead of copying with link: true, and copies a Hugging Face cache snapshot (links to blobs) as files', async () => {
    const repo = await mkdtemp(path.join(tmpdir(), 'nlp-repo-'));
    const linked = await importModel({ source: path.join(EXPORTS, 'st-cls'), modelsDir: repo, link: true, settings });
    expect(linked.mode).toBe('linked');
    expect(await readlink(path.join(repo, 'st-cls'))).toBe(path.join(EXPORTS, 'st-cls'));

    // A snapshot folder whose files are links into a blob store, as huggingface_hub's cache lays them out.
    const cache = await mkdtemp(path.join(tmpdir(), 'hf-cache-'));
    const blobs = path.join(cache, 'blobs');
    const snapshot = path.join(cache, 'snapshots', 'abc123');
    await mkdir(blobs, { recursive: true });
    await mkdir(path.join(snapshot, 'onnx'), { recursive: true });
    for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) {
      const blob = path.join(blobs, file.replace('/', '_'));
      await cp(path.join(EXPORTS, 'distilbert', file), blob);
      await symlink(blob, path.join(snapshot, file));
    }
    const report = await importModel({ source: snapshot, modelsDir: repo, name: 'topics', settings });
    expect(report.files).toBe(4);
    expect((await lstat(path.join(repo, 'topics/onnx/model.onnx'))).isFile()).toBe(true);
  });

  it('imports versions side by side with --version: <name>/<version>/, never over an existing version or a single-folder model', async () => {
    const repo = await repoWithBuiltIns();
    const first = await importModel({ source: path.join(EXPORTS, 'bert'), modelsDir: repo, name: 'sentiment', version: '1.0.0', settings });
    expect(first.destination).toBe(path.join(repo, 'sentiment', '1.0.0'));
    expect(first.readFrom['version']).toEqual({ value: '1.0.0', from: 'version folder name' });
    await importModel({ source: path.join(EXPORTS, 'bert'), modelsDir: repo, name: 'sentiment', version: '1.1.0', settings });
    expect(await entries(path.join(repo, 'sentiment'))).toEqual(['1.0.0', '1.1.0']);
    const again = await importModel({ source: path.join(EXPORTS, 'bert'), modelsDir: repo, name: 'sentiment', version: '1.1.0', settings }).catch((e: Error) => e);
    expect((again as Error).message).toBe(
      `${path.join(repo, 'sentiment', '1.1.0')} already exists: choose another --version (a version folder is never changed in place), or remove that folder first`,
    );
    const single = await importModel({ source: path.join(EXPORTS, 'bert'), modelsDir: repo, name: 'spam-linear', version: '2.0.0', settings }).catch((e: Error) => e);
    expect(single).toBeInstanceOf(ImportError);
    expect((single as Error).message).toMatch(/spam-linear is a single-folder model: move its files into a version folder first \(e\.g\. .*spam-linear\/1\.0\.0\/\), then import the new version beside it$/);
    const gw = await startGatewayProcess({ MODELS_DIR: repo });
    try {
      await gw.waitReady();
      const { data } = await execute(gw.url, ModelsDocument);
      expect(data!.models.find((m) => m.name === 'sentiment')!.versions.map((v) => [v.version, v.state])).toEqual([
        ['1.0.0', 'STANDBY'],
        ['1.1.0', 'SERVING'],
      ]);
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  });

  it('refuses a taken name, a bad name, a second default and a missing fallback, leaving the repository as it was', async () => {
    const repo = await repoWithBuiltIns();
    const before = await entries(repo);
    const refused = async (options: Partial<Parameters<typeof importModel>[0]>) =>
      importModel({ source: path.join(EXPORTS, 'bert'), modelsDir: repo, settings, ...options }).then(
        () => undefined,
        (e: Error) => e,
      );

    let e = await refused({ name: 'spam-bert' });
    expect(e).toBeInstanceOf(ImportError);
    expect(e!.message).toBe(`${path.join(repo, 'spam-bert')} already exists: choose another name with --name, or remove that folder first`);
    e = await refused({ name: 'sentiment@2' });
    expect(e!.message).toBe('"sentiment@2" cannot be a model name (letters, digits, . _ - ; at most 64; no @): choose one with --name');

    const marked = await copyExport('bert', (d) => writeFile(path.join(d, 'model.json'), JSON.stringify({ default: true })));
    e = await refused({ source: marked });
    expect(e).toBeInstanceOf(ImportError);
    expect(e!.message).toBe(
      `bert is marked default for classification (its model.json), and so is spam-bert (${path.join(repo, 'spam-bert', 'model.json')}): keep "default": true in one of them`,
    );
    const withFallback = await copyExport('bert', (d) => writeFile(path.join(d, 'model.json'), JSON.stringify({ fallback: 'ghost' })));
    e = await refused({ source: withFallback });
    expect(e).toBeInstanceOf(ModelLoadError);
    expect(e!.message).toBe(`model folder ${withFallback}: model.json fallback "ghost" is not a model in ${repo}: import it first, or remove "fallback"`);
    const broken = await copyExport('bert', (d) => rm(path.join(d, 'tokenizer.json')));
    e = await refused({ source: broken });
    expect(e).toBeInstanceOf(ModelLoadError);
    expect(await entries(repo)).toEqual(before);
  });

  it('runs from the CLI (nlp-gateway models import): prints what it read from where; a refusal exits 3 with the reason', async () => {
    const repo = await mkdtemp(path.join(tmpdir(), 'nlp-repo-'));
    const cli = path.join(REPO, 'dist/cli/main.js');
    const script = [cli, 'models', 'import'];
    const env = deployedEnv({ MODELS_DIR: repo });
    const ok = await run(process.execPath, [...script, path.join(EXPORTS, 'st-dense'), '--name', 'minilm-dense'], { env });
    const lines = ok.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^imported minilm-dense -> ${repo}/minilm-dense \\(copied, 11 files, [0-9.]+ KiB\\)$`));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}pooling +none +model\.onnx output sentence_embedding \(pooled in the graph\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}dimensions +16 +model\.onnx output sentence_embedding$/));
    expect(ok.stdout).toContain('loaded with onnxruntime, probe and warm-up inferences answered: fp32 model.onnx (');

    const broken = await copyExport('roberta', (d) => rm(path.join(d, 'config.json')));
    const failed = await run(process.execPath, [...script, broken], { env }).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed!.code).toBe(3);
    expect(failed!.stderr.trim()).toBe(
      `nlp-gateway: not imported: model folder ${broken}: missing file config.json: the task, labels and limits are read from it; copy it from the model (save_pretrained writes it), or set "task" in model.json`,
    );
    const usage = await run(process.execPath, script, { env }).then(() => undefined, (err: { code: number }) => err);
    expect(usage!.code).toBe(2);
  });
});
