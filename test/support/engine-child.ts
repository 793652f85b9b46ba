// A child process for the engine kill test: the whole application (no HTTP), configured from
// the environment, trading until it is killed.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../../src/app.module.js';

const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'] });
await app.init();
process.stdout.write('started\n');
