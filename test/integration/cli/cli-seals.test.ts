// `arbiter digest` and `arbiter verify --digest` against a real PostgreSQL database: an auditor
// keeps the latest seal; later the log is proved to extend it, what came after is named as
// unsealed, and a forgery before it (every hash recomputed) is caught. Plus the new verify
// findings through the CLI and its usage errors.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../../../src/cli/main.js';
import { PostgresEventStore } from '../../../src/ledger/postgres/postgres-event-store.js';
import { LedgerSealer } from '../../../src/audit/sealer.js';
import { SolanaMemoAnchor } from '../../../src/audit/solana/solana-memo-anchor.js';
import { freshDatabase, type TestDatabase } from '../../support/db.js';
import { ev, testRegistry } from '../../support/events.js';
import { testSealSigner } from '../../support/seal-signer.js';
import { forgeChains, tamper } from '../../support/tamper.js';
import { startSolanaRpcStandIn, type SolanaRpcStandIn } from '../../stand-ins/solana-rpc-server.js';

function capture(): CliIo & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTty: false, out: (s: string) => void (io.stdout += s), err: (s: string) => void (io.stderr += s) };
  return io;
}

describe('arbiter digest and verify --digest', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let store: PostgresEventStore;
  let rpc: SolanaRpcStandIn;
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-digest-'));
  beforeAll(async () => {
    db = await freshDatabase();
    env = { DATABASE_URL: db.url };
    store = new PostgresEventStore(db.sql, testRegistry());
    rpc = await startSolanaRpcStandIn();
  });
  afterAll(async () => {
    await rpc.close();
    await db.drop();
  });

  it('says there is no seal yet, and that nothing is sealed', async () => {
    await store.append('fills', [ev('FillConfirmed', { amount: '100' }), ev('FillConfirmed', { amount: '200' })], 'no_stream');
    let io = capture();
    expect(await runCli(['digest'], env, io)).toBe(1);
    expect(io.stderr).toMatch(/no seal yet/);
    io = capture();
    expect(await runCli(['verify'], env, io)).toBe(0);
    expect(io.stdout).toMatch(/seals: none yet/);
    expect(io.stdout).toMatch(/unsealed: 2 event\(s\) after the last seal, positions 1–2, in "fills"/);
  });

  it('prints the latest seal, and verify --digest proves the log extends it and names what is unsealed', async () => {
    const signer = await testSealSigner();
    rpc.airdrop(new PublicKey(await signer.publicKey()), 1_000_000_000n);
    const anchor = new SolanaMemoAnchor({ rpcUrl: rpc.url, signer, pollMs: 0 });
    await new LedgerSealer(store, signer, anchor, { everyEvents: 1, everySeconds: 60 }).tick();
    let io = capture();
    expect(await runCli(['digest'], env, io)).toBe(0);
    const digest = JSON.parse(io.stdout);
    expect(digest).toMatchObject({ format: 'arbiter-seal-digest/1', sealEventPosition: '3', seal: { position: '2', anchor: { chain: 'solana' } } });
    const file = join(dir, 'digest.json');
    writeFileSync(file, io.stdout);

    await store.append('fills', [ev('FillConfirmed', { amount: '300' })], 1n);
    io = capture();
    expect(await runCli(['verify', '--digest', file], { ...env, SEAL_ANCHOR_RPC_URL: rpc.url }, io)).toBe(0);
    expect(io.stdout).toMatch(/digest: the log still extends the seal of position 2 \(seal event 3/);
    expect(io.stdout).toMatch(/its Solana anchor \w+ carries it/);
    expect(io.stdout).toMatch(/unsealed: 2 event\(s\) after the last seal, positions 3–4, in "ledger-seals", "fills"/);

    // A forger rewrites fill 1 and recomputes every hash and head table.
    await tamper(db.sql, `UPDATE events SET payload = '{"amount":"1000000"}' WHERE global_position = 1`);
    await forgeChains(db.sql);
    io = capture();
    expect(await runCli(['verify'], env, io)).toBe(1);
    expect(io.stdout).toMatch(/TAMPERED: first bad event is .* \(stream ledger-seals, revision 0, position 3\): the seal says the global chain stood at/);
    io = capture();
    expect(await runCli(['verify', '--digest', file], env, io)).toBe(1);
    expect(io.stdout).toMatch(/the global chain at the digest's position 2 is .*: the log at or before the sealed position was changed/);
  });

  it('says a stream that does not exist does not exist (exit 1)', async () => {
    const io = capture();
    expect(await runCli(['verify', '--stream', 'no-such-stream'], env, io)).toBe(1);
    expect(io.stdout).toMatch(/TAMPERED: stream "no-such-stream" does not exist/);
  });

  it.each([
    [['verify', '--digest', '/nonexistent/digest.json'], /--digest: cannot read \/nonexistent\/digest.json: ENOENT/],
    [['verify', '--stream', 'x', '--digest', 'f'], /--digest checks the whole log: give it without --stream/],
    [['verify', '--seal-key', 'not-a-key!'], /--seal-key must be a base58 Ed25519 public key/],
    [['digest', 'extra'], /digest takes no arguments/],
  ])('usage error for %j exits 2', async (argv, message) => {
    const io = capture();
    expect(await runCli(argv, env, io)).toBe(2);
    expect(io.stderr).toMatch(message);
  });

  it('refuses a digest that is not genuine (exit 2)', async () => {
    const file = join(dir, 'forged.json');
    const io0 = capture();
    expect(await runCli(['digest'], env, io0)).toBe(0);
    const d = JSON.parse(io0.stdout);
    d.seal.hash = '0'.repeat(64);
    writeFileSync(file, JSON.stringify(d));
    const io = capture();
    expect(await runCli(['verify', '--digest', file], env, io)).toBe(2);
    expect(io.stderr).toMatch(/the digest's seal is not genuine/);
  });
});
