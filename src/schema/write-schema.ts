// npm run schema:write — regenerates schema.graphql at the repository root.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGatewaySchema, printGatewaySchema } from './build-schema.js';

const target = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../schema.graphql');
await writeFile(target, printGatewaySchema(await buildGatewaySchema()));
console.log(`wrote ${target}`);
