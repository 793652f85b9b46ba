// The logger over pino: JSON fields, the context's correlation id on every line, redaction by
// path, Nest's calling conventions, and pretty lines only when asked or on a terminal.
import { describe, expect, it } from 'vitest';
import { withLogContext } from '../../../src/shared/logging/log-context.js';
import { ArbiterLogger, createLogger, REDACTED } from '../../../src/shared/logging/logger.js';

const capture = (format: 'auto' | 'json' | 'pretty' = 'json', isTTY = false) => {
  const lines: string[] = [];
  const logger = new ArbiterLogger(createLogger({ level: 'info', format, destination: { write: (s: string) => lines.push(s), isTTY } }));
  return { logger, lines, json: () => lines.map((l) => JSON.parse(l) as Record<string, any>) };
};

describe('ArbiterLogger', () => {
  it('writes one JSON object per line with level, time, context and message', () => {
    const { logger, json } = capture();
    logger.log('listening', 'Arbiter');
    logger.debug('not at info');
    expect(json()).toHaveLength(1);
    expect(json()[0]).toMatchObject({ level: 'info', context: 'Arbiter', msg: 'listening', time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) });
  });

  it('puts the log context (correlation id) on every line logged inside it, also after an await', async () => {
    const { logger, json } = capture();
    await withLogContext({ correlationId: 'req-1' }, async () => {
      logger.log('first', 'API');
      await new Promise((r) => setImmediate(r));
      logger.warn({ msg: 'second', route: '/x' }, 'API');
    });
    logger.log('outside', 'API');
    expect(json().map((l) => l.correlationId)).toEqual(['req-1', 'req-1', undefined]);
    expect(json()[1]).toMatchObject({ level: 'warn', route: '/x' });
  });

  it('redacts secrets by path, whatever the message', () => {
    const { logger, lines, json } = capture();
    logger.log({ msg: 'r', headers: { authorization: 'Bearer arb_secret1', 'x-api-key': 'arb_secret2' }, apiKey: 'arb_secret3', signer: { passphrase: 'pass-secret4' }, KEYSTORE_PASSPHRASE: 'pass-secret5' }, 'API');
    expect(lines.join('')).not.toMatch(/secret\d/);
    expect(json()[0]).toMatchObject({ headers: { authorization: REDACTED, 'x-api-key': REDACTED }, apiKey: REDACTED, signer: { passphrase: REDACTED }, KEYSTORE_PASSPHRASE: REDACTED });
  });

  it('takes Nest’s error(message, stack, context) and Error objects', () => {
    const { logger, json } = capture();
    logger.error('failed', 'Error: x\n    at y', 'Saga');
    logger.error(new Error('boom'), 'Saga');
    expect(json()[0]).toMatchObject({ level: 'error', context: 'Saga', msg: 'failed', stack: expect.stringContaining('at y') });
    expect(json()[1]).toMatchObject({ level: 'error', msg: 'boom', err: { type: 'Error', message: 'boom' } });
  });

  it('is pretty only on a terminal (auto) or when asked', () => {
    const file = capture('auto', false);
    file.logger.log('x', 'C');
    expect(() => JSON.parse(file.lines[0]!)).not.toThrow();
    const tty = capture('auto', true);
    tty.logger.log({ msg: 'x', n: 1 }, 'C');
    expect(tty.lines[0]).toMatch(/INFO .*\[C\] x .*n=1/);
  });
});
