// Network namespaces for partition tests (root only): each namespace reaches the root namespace
// over veth pairs, one pair per path, so a test can cut one path (`ip link set … down`) and keep
// another. Services on 127.0.0.1 in the root namespace (PostgreSQL, the stand-ins) are not
// reachable from a namespace; a TcpForwarder listening on a pair's host address carries a path
// to them, and records what the namespace sent through it. Names are unique per run; destroy()
// removes the namespace (its ends of the pairs go with it, and so do the host ends).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { userInfo } from 'node:os';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ip = (...args: string[]) => run('ip', args);

/** Why namespaces cannot be used here, or null when they can (root, and `ip netns add` works). */
export async function netnsUnavailable(): Promise<string | null> {
  if (userInfo().uid !== 0) return 'not running as root';
  const probe = `arbprobe${randomBytes(3).toString('hex')}`;
  try {
    await ip('netns', 'add', probe);
  } catch (err) {
    return `ip netns add failed: ${(err as Error).message.split('\n')[0]}`;
  }
  await ip('netns', 'del', probe).catch(() => undefined);
  return null;
}

export interface NetPath {
  /** The host end's device (in the root namespace): set it down to cut the path. */
  hostDevice: string;
  /** The address of the host end, as seen from inside the namespace. */
  hostAddress: string;
  down(): Promise<void>;
  up(): Promise<void>;
}

export interface Namespace {
  name: string;
  /** The command prefix that runs a program inside (ip netns exec execs it: same pid). */
  exec: string[];
  /** A veth pair from the root namespace into this one, on 10.<run>.<subnet>.0/24. */
  path(subnet: number): Promise<NetPath>;
  destroy(): Promise<void>;
}

/** Unique per run: the namespace names, the device names (≤ 15 characters) and the 10.x.0.0/16 the pairs use. */
export function netnsRun(): { tag: string; octet: number } {
  return { tag: randomBytes(2).toString('hex'), octet: 100 + (randomBytes(1)[0] % 150) };
}

export async function createNamespace(run: { tag: string; octet: number }, index: number): Promise<Namespace> {
  const name = `arbiter-${run.tag}-${index}`;
  await ip('netns', 'add', name);
  await ip('-n', name, 'link', 'set', 'lo', 'up');
  const devices: string[] = [];
  return {
    name,
    exec: ['ip', 'netns', 'exec', name],
    async path(subnet) {
      const host = `ah${run.tag}${index}${subnet}`;
      const inner = `an${run.tag}${index}${subnet}`;
      const hostAddress = `10.${run.octet}.${subnet}.1`;
      await ip('link', 'add', host, 'type', 'veth', 'peer', 'name', inner, 'netns', name);
      devices.push(host);
      await ip('addr', 'add', `${hostAddress}/24`, 'dev', host);
      await ip('link', 'set', host, 'up');
      await ip('-n', name, 'addr', 'add', `10.${run.octet}.${subnet}.2/24`, 'dev', inner);
      await ip('-n', name, 'link', 'set', inner, 'up');
      return {
        hostDevice: host,
        hostAddress,
        down: async () => void (await ip('link', 'set', host, 'down')),
        up: async () => void (await ip('link', 'set', host, 'up')),
      };
    },
    async destroy() {
      await ip('netns', 'del', name).catch(() => undefined);
      // Deleting the namespace deletes the pairs; a host end left by a half-made pair goes here.
      for (const d of devices) await ip('link', 'del', d).catch(() => undefined);
    },
  };
}

/** What one forwarder saw come in from its clients: a timestamp per occurrence of a marker. */
export interface TcpForwarder {
  /** `url` with its host and port replaced by this forwarder's (user, path and query kept). */
  via(url: string): string;
  /** Date.now() of every occurrence of `marker` in the client → target bytes. */
  seen: number[];
  close(): Promise<void>;
}

/**
 * Listens on `host` (a free port) and pipes each connection to `target`. Counts `marker` in what
 * clients send (a JSON-RPC method name, say), across chunk boundaries, so a test can tell what a
 * namespace sent through this path and when.
 */
export async function startTcpForwarder(host: string, target: { host: string; port: number }, marker?: string): Promise<TcpForwarder> {
  const sockets = new Set<Socket>();
  const seen: number[] = [];
  const server: Server = createServer((client) => {
    const upstream = createConnection(target);
    sockets.add(client).add(upstream);
    let tail = '';
    client.on('data', (chunk: Buffer) => {
      if (!marker) return;
      const text = tail + chunk.toString('latin1');
      // The tail is shorter than the marker: an occurrence found here was not counted before.
      for (let i = text.indexOf(marker); i !== -1; i = text.indexOf(marker, i + marker.length)) seen.push(Date.now());
      tail = text.slice(-(marker.length - 1));
    });
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  const { port } = server.address() as { port: number };
  return {
    via: (url) => {
      const u = new URL(url);
      u.host = `${host}:${port}`;
      return u.toString();
    },
    seen,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
