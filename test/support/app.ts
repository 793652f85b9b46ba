// Boots the real application (AppModule on Fastify) against a database, for end-to-end tests
// that talk to it over HTTP like a user would.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from '../../src/app.module.js';
import { fastifyServerOptions } from '../../src/api/api.config.js';
import { loadConfig } from '../../src/config/config.js';

/**
 * Starts the app with `env` laid over the process environment (undefined removes a variable).
 * The engine loop is off unless ENGINE_AUTOSTART is given, so tests decide what trades; HA is
 * off unless ENGINE_HA is given.
 */
export async function startApp(
  env: Record<string, string | undefined>,
): Promise<{ app: NestFastifyApplication; url: string; close(): Promise<void> }> {
  const saved: Record<string, string | undefined> = {};
  // One process, single-node semantics unless a test asks for HA (engine-ha.test.ts runs several).
  for (const [k, v] of Object.entries({ ENGINE_AUTOSTART: 'false', ENGINE_HA: 'off', ...env })) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(fastifyServerOptions(loadConfig(process.env).api)), { logger: ['error'] });
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  const addr = app.getHttpServer().address() as { port: number };
  return {
    app,
    url: `http://127.0.0.1:${addr.port}`,
    async close() {
      await app.close();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    },
  };
}

export async function gql(url: string, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as { data?: any; errors?: { message: string; extensions?: any }[] } };
}
