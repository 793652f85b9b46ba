// Bootstrap only: config, logger, app.listen.
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { fastifyServerOptions, loadApiConfig, metricsExposureWarning, type ApiConfig } from './api/api.config.js';
import { AppModule } from './app.module.js';
import { ConfigError, loadConfig, type ArbiterConfig } from './config/config.js';
import { loadAuditConfig } from './audit/audit.config.js';
import { loadComplianceConfig } from './compliance/compliance.config.js';
import { loadExecutionConfig } from './execution/execution.config.js';
import { loadSealConfig } from './audit/seal.config.js';
import { loadMarketConfig } from './market/market.config.js';
import { loadNotificationsConfig } from './notifications/notifications.config.js';
import { defaultRiskLimits } from './risk/limits.js';
import { loadTradingConfig } from './trading/trading.config.js';

/**
 * Every context's settings, checked before anything starts, so one run names every problem
 * (not only the first module's) without a stack trace.
 */
function checkConfiguration(): { config: ArbiterConfig; api: ApiConfig } {
  const problems: string[] = [];
  let config: ArbiterConfig | null = null;
  const check = (fn: () => unknown) => {
    try {
      return fn();
    } catch (err) {
      const list = (err as { problems?: unknown }).problems;
      if (Array.isArray(list)) problems.push(...list.map(String));
      else throw err;
    }
  };
  config = check(() => loadConfig()) as ArbiterConfig | null;
  check(() => loadMarketConfig());
  check(() => defaultRiskLimits());
  check(() => loadComplianceConfig());
  check(() => loadExecutionConfig());
  check(() => loadTradingConfig());
  check(() => loadAuditConfig());
  check(() => loadSealConfig());
  check(() => loadNotificationsConfig());
  const api = check(() => loadApiConfig()) as ApiConfig | undefined;
  if (problems.length || !config || !api) {
    process.stderr.write(`${new ConfigError([...new Set(problems)]).message}\nSee README.md (Configuration) for every setting.\n`);
    process.exit(2);
  }
  return { config, api };
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
  const { config, api } = checkConfiguration();
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(fastifyServerOptions(api)), {
    logger: config.logLevel === 'debug' ? ['error', 'warn', 'log', 'debug'] : config.logLevel === 'info' ? ['error', 'warn', 'log'] : config.logLevel === 'warn' ? ['error', 'warn'] : ['error'],
  });
  app.enableShutdownHooks();
  exitWithin(config.shutdownTimeoutMs);
  await app.listen(config.port, config.host);
  const warning = metricsExposureWarning(config.host, api);
  if (warning) new Logger('Arbiter').warn(warning);
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`;
  new Logger('Arbiter').log(`listening on ${url} — GraphQL ${url}/graphql (GraphiQL ${url}/graphiql), metrics ${url}/metrics`);
}

bootstrap().catch((err) => {
  process.stderr.write(`arbiter failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
