// Entry point of the server process (`node --import ./dist/instrumentation.js dist/main.js`, as a
// container runs it); `nlp-gateway serve` runs the same.
import 'reflect-metadata';
import { runServer } from './server/run-server.js';

await runServer();
