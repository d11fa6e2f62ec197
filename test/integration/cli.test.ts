// The `nlp-gateway` command as an operator runs it: the built bin (dist/cli/main.js) as a child
// process, with the environment a container gives it. Every command, its --help, and its exit codes.
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployedEnv, REPO, startGatewayProcess } from '../support/gateway-process.js';
import { addTinyClassifier, makeRepo } from '../support/model-repo.js';

const BIN = path.join(REPO, 'dist/cli/main.js');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(BIN, args, { env: deployedEnv(env), timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('nlp-gateway --help and usage errors', () => {
  it('prints help for every command with exit code 0, and documents the exit codes', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^Usage: nlp-gateway \[options\] \[command\]/);
    for (const command of ['serve', 'models', 'bench']) expect(top.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    expect(top.stdout).toContain('Exit codes:\n  0  done');
    expect(top.stdout).toContain('  3  the model repository cannot be served');

    for (const args of [['serve', '--help'], ['models', '--help'], ['models', 'list', '--help'], ['models', 'validate', '--help'], ['bench', '--help'], ['help', 'models']]) {
      const help = await cli(args);
      expect(help.code, args.join(' ')).toBe(0);
      expect(help.stdout, args.join(' ')).toMatch(/^Usage: nlp-gateway /);
    }
    expect((await cli(['serve', '--help'])).stdout).toContain('--models-dir <dir>');
    // bench --help shows the benchmark's own options and runs nothing.
    expect((await cli(['bench', '--help'])).stdout).toContain('--concurrency 1,16,64');
    expect((await cli(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits 2 on usage errors, naming the problem', async () => {
    const unknown = await cli(['bogus']);
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown command 'bogus'") });
    const missing = await cli(['models', 'validate']);
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining("missing required argument 'dir'") });
    const noSub = await cli(['models']);
    expect(noSub.code).toBe(2);
    const option = await cli(['models', 'list', '--frobnicate']);
    expect(option).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown option '--frobnicate'") });
  });
});

describe('nlp-gateway models list', () => {
  it('lists the built-in models from their model.json, loading nothing', async () => {
    const { code, stdout } = await cli(['models', 'list']);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^MODEL\s+TASK\s+VERSION\s+DEFAULT\s+FALLBACK\s+MAX TOKENS\s+OUTPUT\s+WEIGHTS$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['glove-embed-100d', 'spam-bert', 'spam-linear']);
    expect(stdout).toMatch(/^spam-bert\s+classification\s+1\.0\.0\s+yes\s+spam-linear\s+128\s+labels ham,spam\s+onnx\/model\.onnx$/m);

    const json = JSON.parse((await cli(['models', 'list', '--json'])).stdout);
    expect(json.models.find((m: { name: string }) => m.name === 'glove-embed-100d')).toMatchObject({ task: 'embedding', default: true, output: '100 dims, mean pooling' });
  });

  it('shows the problem of a folder that cannot be served, and exits 3 when there is no repository', async () => {
    const repo = await makeRepo();
    await addTinyClassifier(repo, 'good');
    const bad = await addTinyClassifier(repo, 'bad');
    await rm(path.join(bad, 'tokenizer.json'));
    const { code, stdout } = await cli(['models', 'list', '--dir', repo]);
    expect(code).toBe(0);
    expect(stdout.split('\n').find((l) => l.startsWith('bad '))).toMatch(new RegExp(`^bad +PROBLEM: model folder ${bad}: missing file tokenizer\\.json: write it with AutoTokenizer`));
    expect(stdout).toMatch(/^good\s+classification\s+0\.0\.1/m);

    const none = await cli(['models', 'list', '--dir', path.join(repo, 'nowhere')]);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/^nlp-gateway: model folder .*nowhere: cannot read the model repository: ENOENT/);
  });
});

describe('nlp-gateway models validate', () => {
  it('loads and warms up every model of a valid repository (or one folder), exit 0', async () => {
    const repo = await makeRepo();
    await addTinyClassifier(repo, 'tiny', { modelJson: { default: true, fallback: 'backup' } });
    await addTinyClassifier(repo, 'backup');
    const all = await cli(['models', 'validate', repo]);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^✓ backup: classification 0\.0\.1, onnx\/model\.onnx, loaded and warmed up in \d+ ms$/m);
    expect(all.stdout).toMatch(/^✓ tiny: classification 0\.0\.1, onnx\/model\.onnx, loaded and warmed up in \d+ ms$/m);
    expect(all.stdout).toContain(`2 models valid in ${repo} (defaults: classification tiny)`);
    // Piped output carries no progress-bar escape codes.
    expect(all.stdout + all.stderr).not.toContain('\u001b[');

    const one = await cli(['models', 'validate', path.join(repo, 'tiny')]);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^✓ tiny: classification 0\.0\.1/);
    expect(one.stdout).toContain('its fallback "backup" is checked when its repository is validated');
  });

  it('names every broken folder with the exact messages of start-up, exit 3', async () => {
    const repo = await makeRepo();
    await addTinyClassifier(repo, 'fine');
    const noTokenizer = await addTinyClassifier(repo, 'no-tokenizer');
    await rm(path.join(noTokenizer, 'tokenizer.json'));
    const notJson = await addTinyClassifier(repo, 'not-json');
    await writeFile(path.join(notJson, 'model.json'), '{ "task": ');
    const parseError = (() => {
      try {
        JSON.parse('{ "task": ');
        return 'parsed';
      } catch (e) {
        return (e as Error).message;
      }
    })();
    const unknownKey = await addTinyClassifier(repo, 'unknown-key', { modelJson: { colour: 'blue' } });
    const otherLabels = await addTinyClassifier(repo, 'other-labels', { config: { id2label: { 0: 'good', 1: 'bad' } } });
    const noWeights = await addTinyClassifier(repo, 'no-weights');
    await rm(path.join(noWeights, 'onnx/model.onnx'));

    const { code, stdout, stderr } = await cli(['models', 'validate', repo]);
    expect(code).toBe(3);
    expect(stdout.trim().split('\n')).toEqual([
      `✗ model folder ${noTokenizer}: missing file tokenizer.json: write it with AutoTokenizer.from_pretrained(<model>).save_pretrained(<folder>) in Python, which saves the fast tokenizer`,
      `✗ model folder ${noWeights}: no ONNX weights: looked for onnx/model.onnx and model.onnx; export the model with \`optimum-cli export onnx --model <model> <folder>\``,
      `✗ model folder ${notJson}: model.json is not valid JSON: ${parseError}`,
      `✗ model folder ${otherLabels}: model.json labels [ham, spam] differ from config.json id2label [good, bad]: remove "labels" from model.json (id2label is used), or make them equal`,
      `✗ model folder ${unknownKey}: model.json is invalid: (root): Unrecognized key: "colour"; model.json may hold task, version, labels, maxTokens, pooling, dimensions, normalize, fallback, default, baseline, weights`,
    ]);
    expect(stderr).toBe('nlp-gateway: 5 of 6 model folders cannot be served\n');
  });

  it('reports what only loading finds: weights onnxruntime refuses, a fallback that is not there', async () => {
    const garbage = await makeRepo();
    const folder = await addTinyClassifier(garbage, 'tiny');
    await writeFile(path.join(folder, 'onnx/model.onnx'), 'garbage');
    const refused = await cli(['models', 'validate', garbage]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(new RegExp(`^nlp-gateway: model folder ${folder}: onnx/model\\.onnx cannot be loaded by onnxruntime: .+\\n$`));

    const orphan = await makeRepo();
    await addTinyClassifier(orphan, 'tiny', { modelJson: { fallback: 'ghost' } });
    const missing = await cli(['models', 'validate', orphan]);
    expect(missing.code).toBe(3);
    expect(missing.stdout).toMatch(/^✓ tiny: /m);
    expect(missing.stderr).toBe(`nlp-gateway: model folder ${path.join(orphan, 'tiny')}: fallback "ghost" is not a model in ${orphan}\n`);
  });

  it('gives the message start-up gives for the same folder', async () => {
    const repo = await makeRepo();
    const folder = await addTinyClassifier(repo, 'tiny', { modelJson: { maxTokens: 100 } });
    const startup = await startGatewayProcess({ MODELS_DIR: repo }).then(
      () => '',
      (e: Error) => e.message,
    );
    const fatal = JSON.parse(startup.split('\n').find((l) => l.includes('start-up failed'))!);
    const validate = await cli(['models', 'validate', repo]);
    expect(validate.stdout).toBe(`✗ ${fatal.error}\n`);
    expect(fatal.error).toBe(`model folder ${folder}: model.json maxTokens 100 exceeds the 64 tokens config.json max_position_embeddings allows: lower it`);
  });

  it('exits 3 for a path that is not a repository, 2 for a bad configuration variable', async () => {
    const nowhere = await cli(['models', 'validate', '/nonexistent/models']);
    expect(nowhere).toMatchObject({ code: 3, stderr: expect.stringMatching(/^nlp-gateway: model folder \/nonexistent\/models: cannot read the model repository/) });
    const badVariant = await cli(['models', 'validate', path.join(REPO, 'models')], { ONNX_VARIANT: 'int4' });
    expect(badVariant.code).toBe(2);
    expect(badVariant.stderr).toMatch(/^nlp-gateway: invalid configuration: ONNX_VARIANT is invalid/);
  });
});

describe('nlp-gateway serve', () => {
  it('serves with options over the environment until SIGTERM (exit 0); a bad option exits 2 naming its variable', async () => {
    const repo = await makeRepo();
    await addTinyClassifier(repo, 'tiny');
    const child = execFile(BIN, ['serve', '--port', '0', '--host', '127.0.0.1', '--models-dir', repo], { env: deployedEnv({ PORT: '4000' }) });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const port = await new Promise<number>((resolve, reject) => {
      const check = () => {
        const listening = out.split('\n').find((l) => l.includes('"listening"'));
        if (listening) resolve(JSON.parse(listening).port);
      };
      child.stdout!.on('data', check);
      exited.then(() => reject(new Error(out)));
    });
    expect(port).not.toBe(4000);
    let ready = 503;
    for (let i = 0; i < 400 && ready !== 200; i++) {
      ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0);
      if (ready !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(ready).toBe(200);
    const answer = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ classify(text: "the cat") { model { name } } }' }),
    });
    expect(await answer.json()).toMatchObject({ data: { classify: { model: { name: 'tiny' } } } });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const bad = await cli(['serve', '--port', 'eighty']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout.trim())).toMatchObject({ level: 60, problems: [{ variable: 'PORT' }] });
  });
});
