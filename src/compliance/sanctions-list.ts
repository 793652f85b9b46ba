// The sanctioned address list, read from a file (COMPLIANCE_SANCTIONS_FILE): one address per
// line with `#` comments, or a JSON array of strings. It can be reloaded on demand or when the
// file changes; a file that does not parse is refused with a message naming the file and line,
// and the list already in force stays in force (screening never runs against half a list).
//
// Addresses are compared exactly (after trimming): Solana base58 is case-sensitive.
import { createHash } from 'node:crypto';
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { SanctionsLookup } from './rules.js';

export class SanctionsListError extends Error {
  readonly code = 'SANCTIONS_LIST_INVALID';
  constructor(readonly path: string, message: string, options?: { cause?: unknown }) {
    super(`Sanctions list ${path}: ${message}`, options);
    this.name = 'SanctionsListError';
  }
}

export interface SanctionsListOptions {
  /**
   * Accept a file with no address. Off by default: an empty file is far more often a truncated
   * write than an intended empty list, and it would silently switch the rule off.
   */
  allowEmpty?: boolean;
}

export interface ReloadResult {
  changed: boolean;
  size: number;
  version: string;
}

const MAX_ADDRESS_LENGTH = 128;

function checkAddress(a: string, where: string, path: string): void {
  if (/\s/.test(a)) throw new SanctionsListError(path, `${where}: "${a}" contains whitespace (one address per line)`);
  if (a.length > MAX_ADDRESS_LENGTH) throw new SanctionsListError(path, `${where}: address is longer than ${MAX_ADDRESS_LENGTH} characters`);
  if (/[\u0000-\u001f\u007f]/.test(a)) throw new SanctionsListError(path, `${where}: address contains a control character`);
}

/** Parses the file's text; throws SanctionsListError naming the line (or JSON index) at fault. */
export function parseSanctionsList(text: string, path: string, opts: SanctionsListOptions = {}): string[] {
  const body = text.replace(/^\uFEFF/, '');
  const out: string[] = [];
  if (body.trimStart().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (e) {
      throw new SanctionsListError(path, `looks like a JSON array but does not parse: ${(e as Error).message}`, { cause: e });
    }
    if (!Array.isArray(parsed)) throw new SanctionsListError(path, 'JSON content must be an array of address strings');
    parsed.forEach((a, i) => {
      if (typeof a !== 'string' || a.trim() === '') throw new SanctionsListError(path, `item ${i} must be a non-empty address string`);
      checkAddress(a.trim(), `item ${i}`, path);
      out.push(a.trim());
    });
  } else {
    body.split(/\r?\n/).forEach((line, i) => {
      const hash = line.indexOf('#');
      const a = (hash >= 0 ? line.slice(0, hash) : line).trim();
      if (a === '') return;
      checkAddress(a, `line ${i + 1}`, path);
      out.push(a);
    });
  }
  if (out.length === 0 && !opts.allowEmpty) {
    throw new SanctionsListError(path, 'contains no address; refusing an empty list (it is usually a truncated write)');
  }
  return out;
}

export class SanctionsList implements SanctionsLookup {
  private addresses: ReadonlySet<string>;
  private _version: string;
  private _loadedAt: Date;
  private reloading: Promise<ReloadResult> | null = null;
  private readonly watchers = new Set<FSWatcher>();

  private constructor(
    /** Absolute path of the file; null for a list built in memory. */
    readonly path: string | null,
    addresses: string[],
    version: string,
    private readonly opts: SanctionsListOptions,
  ) {
    this.addresses = new Set(addresses);
    this._version = version;
    this._loadedAt = new Date();
  }

  /** Reads and parses the file; throws SanctionsListError (start-up should fail on it). */
  static async load(path: string, opts: SanctionsListOptions = {}): Promise<SanctionsList> {
    const abs = resolve(path);
    const { addresses, version } = await SanctionsList.read(abs, opts);
    return new SanctionsList(abs, addresses, version, opts);
  }

  /** A list held in memory (no file): for tests, or an empty list when no file is configured. */
  static fromAddresses(addresses: Iterable<string>, version?: string): SanctionsList {
    const list = [...addresses].map((a) => a.trim()).filter(Boolean);
    return new SanctionsList(null, list, version ?? versionOf(list.join('\n')), { allowEmpty: true });
  }

  /** The addresses, in no particular order. */
  get entries(): string[] {
    return [...this.addresses];
  }

  private static async read(path: string, opts: SanctionsListOptions): Promise<{ addresses: string[]; version: string }> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
      throw new SanctionsListError(path, `cannot be read (${why}); check COMPLIANCE_SANCTIONS_FILE`, { cause: e });
    }
    return { addresses: parseSanctionsList(text, path, opts), version: versionOf(text) };
  }

  has(address: string): boolean {
    return this.addresses.has(address.trim());
  }

  get size(): number {
    return this.addresses.size;
  }

  /** sha256 of the file content (first 32 hex digits), recorded with each screening. */
  get version(): string {
    return this._version;
  }

  get loadedAt(): Date {
    return this._loadedAt;
  }

  /**
   * Reads the file again. On success the new list replaces the old one in one step; on failure
   * it throws SanctionsListError and the previous list stays in force. Concurrent calls share
   * one read.
   */
  reload(): Promise<ReloadResult> {
    if (!this.path) return Promise.resolve({ changed: false, size: this.size, version: this._version });
    if (this.reloading) return this.reloading;
    const path = this.path;
    this.reloading = (async () => {
      try {
        const { addresses, version } = await SanctionsList.read(path, this.opts);
        const changed = version !== this._version;
        this.addresses = new Set(addresses);
        this._version = version;
        this._loadedAt = new Date();
        return { changed, size: this.addresses.size, version };
      } finally {
        this.reloading = null;
      }
    })();
    return this.reloading;
  }

  /**
   * Reloads when the file changes. Watches the directory, not the file, because editors and
   * deploy tools replace files by rename, which a watch on the old inode would miss. Changes are
   * coalesced for `debounceMs` so a write in several chunks is read once. Returns a stop function.
   */
  watch(opts: { debounceMs?: number; onReload?: (r: ReloadResult) => void; onError?: (e: Error) => void } = {}): () => void {
    if (!this.path) throw new Error('this sanctions list was not loaded from a file; there is nothing to watch');
    const name = basename(this.path);
    const debounceMs = opts.debounceMs ?? 200;
    let timer: NodeJS.Timeout | null = null;
    const onError = (e: unknown) => opts.onError?.(e instanceof Error ? e : new Error(String(e)));
    const fire = () => {
      timer = null;
      this.reload().then((r) => opts.onReload?.(r), onError);
    };
    const watcher = fsWatch(dirname(this.path), { persistent: false }, (_event, file) => {
      if (file !== null && file.toString() !== name) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(fire, debounceMs);
    });
    watcher.on('error', onError);
    this.watchers.add(watcher);
    return () => {
      if (timer) clearTimeout(timer);
      watcher.close();
      this.watchers.delete(watcher);
    };
  }

  /** Stops every watcher. */
  close(): void {
    for (const w of this.watchers) w.close();
    this.watchers.clear();
  }
}

function versionOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}
