// `npm run console:codegen`: boots the app (embedded database in a temporary folder, engine
// off), prints its GraphQL schema to console/schema.graphql and regenerates the console's typed
// documents. Run after changing a resolver or an operation; test/e2e/console.test.ts fails
// while either file is stale.
import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { startApp } from '../test/support/app.js';
import { generate, GENERATED_FILE, OPERATIONS_FILE, SCHEMA_FILE } from './codegen.js';

const dataDir = mkdtempSync(join(tmpdir(), 'arbiter-codegen-'));
const app = await startApp({ DATABASE_URL: undefined, ARBITER_DATA_DIR: dataDir, LOG_LEVEL: 'error' });
try {
  const sdl = `${printSchema(lexicographicSortSchema(app.app.get(GraphQLSchemaHost).schema))}\n`;
  writeFileSync(SCHEMA_FILE, sdl);
  mkdirSync(dirname(GENERATED_FILE), { recursive: true });
  writeFileSync(GENERATED_FILE, await generate(sdl, readFileSync(OPERATIONS_FILE, 'utf8')));
  process.stdout.write(`wrote ${SCHEMA_FILE} and ${GENERATED_FILE}\n`);
} finally {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
