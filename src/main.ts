// Bootstrap only: config, logger, app.listen.
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { ConfigError, loadConfig } from './config/config.js';

async function bootstrap() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee README.md (Configuration) for every setting.\n`);
      process.exit(2);
    }
    throw err;
  }
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter({ bodyLimit: 256 * 1024 }), {
    logger: config.logLevel === 'debug' ? ['error', 'warn', 'log', 'debug'] : config.logLevel === 'info' ? ['error', 'warn', 'log'] : config.logLevel === 'warn' ? ['error', 'warn'] : ['error'],
  });
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`;
  new Logger('Arbiter').log(`listening on ${url} — GraphQL ${url}/graphql (GraphiQL ${url}/graphiql), metrics ${url}/metrics`);
}

bootstrap().catch((err) => {
  process.stderr.write(`arbiter failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
