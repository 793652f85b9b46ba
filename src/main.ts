// Bootstrap only: config, logger, app.listen.
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { fastifyServerOptions, metricsExposureWarning } from './api/api.config.js';
import { AppModule } from './app.module.js';
import { ConfigError, loadConfig, type ArbiterConfig } from './config/config.js';
import { useStartupConfig } from './config/config.module.js';
import { ArbiterLogger, createLogger } from './shared/logging/logger.js';

/**
 * The one configuration, read from the environment once and checked before anything starts, so
 * one run names every problem of every context without a stack trace (exit 2).
 */
function checkConfiguration(): ArbiterConfig {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\nSee README.md (Configuration) for every setting.\n`);
    process.exit(2);
  }
}

/**
 * A graceful stop (drain, flush, close) that hangs must not keep the process alive: once a
 * SIGTERM or SIGINT arrives, the process exits within SHUTDOWN_TIMEOUT_MS whatever still runs.
 */
function exitWithin(timeoutMs: number): void {
  const arm = (signal: NodeJS.Signals) => {
    setTimeout(() => {
      process.stderr.write(`arbiter: graceful shutdown after ${signal} did not finish within ${timeoutMs} ms (SHUTDOWN_TIMEOUT_MS); exiting\n`);
      process.exit(1);
    }, timeoutMs).unref();
  };
  process.once('SIGTERM', arm);
  process.once('SIGINT', arm);
}

async function bootstrap() {
  const config = checkConfiguration();
  useStartupConfig(config);
  // Structured logs (src/shared/logging): JSON lines unless stdout is a terminal (LOG_FORMAT).
  const logger = new ArbiterLogger(createLogger({ level: config.logLevel, format: config.logFormat }));
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(fastifyServerOptions(config.api)), { logger });
  app.enableShutdownHooks();
  exitWithin(config.shutdownTimeoutMs);
  await app.listen(config.port, config.host);
  const warning = metricsExposureWarning(config.host, config.api);
  if (warning) new Logger('Arbiter').warn(warning);
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`;
  new Logger('Arbiter').log(`listening on ${url} — GraphQL ${url}/graphql (GraphiQL ${url}/graphiql), metrics ${url}/metrics`);
}

bootstrap().catch((err) => {
  process.stderr.write(`arbiter failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
