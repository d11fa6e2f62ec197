// `nlp-gateway models ...`: the model repository without serving it. Each subcommand lives in its own
// module and registers itself here.
import type { Command } from 'commander';
import { registerModelsImport } from './models-import.js';
import { registerModelsList } from './models-list.js';
import { registerModelsValidate } from './models-validate.js';

export function registerModels(program: Command): void {
  const models = program.command('models').description('list, check and add to the model repository');
  registerModelsList(models);
  registerModelsValidate(models);
  registerModelsImport(models);
}
