// `nlp-gateway serve`: the server, exactly as `node --import dist/instrumentation.js dist/main.js`
// runs it. Options are shorthands for the environment variables of the same meaning.
import type { Command } from 'commander';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the GraphQL API (and the IDE) on HTTP until SIGTERM/SIGINT')
    .option('-p, --port <port>', 'TCP port (PORT; default 4000)')
    .option('-H, --host <address>', 'address to bind (HOST; default 0.0.0.0)')
    .option('-m, --models-dir <dir>', 'model repository (MODELS_DIR; default models/ of this repository)')
    .addHelpText('after', '\nEvery other setting is an environment variable: see the README\'s configuration table.')
    .action(async (options: { port?: string; host?: string; modelsDir?: string }) => {
      for (const [name, value] of [['PORT', options.port], ['HOST', options.host], ['MODELS_DIR', options.modelsDir]] as const) {
        if (value !== undefined) process.env[name] = value;
      }
      // Tracing starts before the server's modules load, as --import does for dist/main.js (a second
      // import of the same module, under npm start, is a no-op).
      await import('../../instrumentation.js');
      await import('reflect-metadata');
      const { runServer } = await import('../../server/run-server.js');
      await runServer();
    });
}
