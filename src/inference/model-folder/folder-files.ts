// Reads the files of one model folder. Every problem becomes a ModelLoadError naming the folder, the
// file and what to do about it.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { ModelLoadError } from '../../errors/errors.js';

export class FolderFiles {
  constructor(readonly folder: string) {}

  fail(problem: string): never {
    throw new ModelLoadError(this.folder, problem);
  }

  async exists(file: string): Promise<boolean> {
    // Anything but a directory: a file, or a pipe or device a deployment may mount in its place.
    return stat(path.join(this.folder, file)).then((s) => !s.isDirectory(), () => false);
  }

  /** Names of the files directly in `dir` (relative to the folder), [] when there is no such folder. */
  async list(dir = ''): Promise<string[]> {
    const entries = await readdir(path.join(this.folder, dir), { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => !e.isDirectory()).map((e) => path.posix.join(dir, e.name)).sort();
  }

  /** Parsed `file`, or undefined when it does not exist; bad JSON or a schema mismatch fails. */
  async readOptional<T>(file: string, schema?: z.ZodType<T>, fix?: string): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(path.join(this.folder, file), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      return this.fail(`cannot read ${file}: ${(e as Error).message}`);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return this.fail(`${file} is not valid JSON: ${(e as Error).message}`);
    }
    if (!schema) return value as T;
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      return this.fail(`${file} is invalid: ${issues}${fix ? `; ${fix}` : ''}`);
    }
    return parsed.data;
  }
}
