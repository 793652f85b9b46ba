// A child process for the engine kill test: the whole application (no HTTP), configured from
// the environment, trading until it is killed.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../../src/app.module.js';

// ENGINE_CHILD_LOG=warn: also the warnings and log lines (the HA test reads role changes there).
const levels = process.env.ENGINE_CHILD_LOG === 'warn' ? (['error', 'warn', 'log'] as const) : (['error'] as const);
const app = await NestFactory.createApplicationContext(AppModule, { logger: [...levels] });
app.enableShutdownHooks();
await app.init();
process.stdout.write('started\n');
