import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildGatewaySchema, printGatewaySchema } from '../../src/schema/build-schema.js';
import { REPO } from '../support/gateway-process.js';

describe('schema.graphql', () => {
  it('is the SDL the type-graphql classes produce (run `npm run schema:write` after changing them)', async () => {
    const committed = await readFile(path.join(REPO, 'schema.graphql'), 'utf8');
    expect(printGatewaySchema(await buildGatewaySchema())).toBe(committed);
  });
});
