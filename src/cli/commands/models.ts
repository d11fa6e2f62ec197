// `nlp-gateway models ...`: the model repository without serving it. Each subcommand lives in its own
// module and registers itself here (models import <folder> will join them).
import type { Command } from 'commander';
import { registerModelsList } from './models-list.js';
import { registerModelsValidate } from './models-validate.js';

export function registerModels(program: Command): void {
  const models = program.command('models').description('list and check the model repository');
  registerModelsList(models);
  registerModelsValidate(models);
}
