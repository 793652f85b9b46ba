// `npm run sandbox`: the engine in MARKET=live VENUE=solana against local STAND-INS (Pyth Hermes,
// Jupiter, and a Solana RPC node over litesvm; see ./sandbox.ts), never mainnet. It starts the
// stand-ins on 127.0.0.1, then the real engine (`node dist/src/main.js`, built by the npm script)
// pointed at them, and prints the trader's balances in litesvm every 10 s while it trades.
// Ctrl-C stops the engine (gracefully), then the stand-ins.
//
// Settings: SANDBOX_DIR (the engine's data directory; default a fresh temporary one, so every run
// starts from an empty ledger), PORT (default 3000), SANDBOX_EDGE_BPS (how rich SOL sells for USDC,
// default 60). Any other setting of README's Configuration passes through to the engine.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox, type SandboxHolding } from './sandbox.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = process.env.SANDBOX_DIR ?? mkdtempSync(join(tmpdir(), 'arbiter-sandbox-'));
mkdirSync(dir, { recursive: true, mode: 0o700 });
const edgeBps = Number(process.env.SANDBOX_EDGE_BPS ?? '60');
if (!Number.isInteger(edgeBps) || edgeBps < -1000 || edgeBps > 1000) {
  process.stderr.write(`SANDBOX_EDGE_BPS must be an integer between -1000 and 1000 (got ${process.env.SANDBOX_EDGE_BPS})\n`);
  process.exit(2);
}

const sandbox = await startSandbox({ dir, edgeBps });
const format = (h: SandboxHolding[]) => h.map((x) => `${x.symbol} ${x.amount}`).join(', ');
const start = sandbox.holdings();
const say = (line: string) => process.stdout.write(`[sandbox] ${line}\n`);
say('STAND-INS, not mainnet: Hermes ' + sandbox.hermes.url + ', Jupiter ' + sandbox.jupiter.url + ', Solana RPC (litesvm) ' + sandbox.rpc.url);
say(`trader ${sandbox.trader.toBase58()}; data directory ${dir}`);
say(`balances (base units): ${format(start)}; ${sandbox.lamports()} lamports`);

const engine = spawn(process.execPath, ['dist/src/main.js'], {
  cwd: root,
  env: { ...process.env, ...sandbox.env, ARBITER_DATA_DIR: dir, PORT: process.env.PORT ?? '3000' },
  stdio: ['ignore', 'inherit', 'inherit'],
});

const report = setInterval(() => {
  const now = sandbox.holdings();
  const moved = now.map((h, i) => `${h.symbol} ${h.amount - start[i]!.amount >= 0n ? '+' : ''}${h.amount - start[i]!.amount}`).join(', ');
  say(`balances moved since start (base units): ${moved}; ${sandbox.rpc.calls.get('sendTransaction') ?? 0} transactions sent`);
}, 10_000);

let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  say(`${signal}: stopping the engine, then the stand-ins`);
  engine.kill('SIGTERM');
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
engine.on('exit', async (code, signal) => {
  clearInterval(report);
  say(`engine exited (${code ?? signal}); final balances: ${format(sandbox.holdings())}`);
  await sandbox.close();
  process.exit(stopping ? 0 : (code ?? 1));
});
