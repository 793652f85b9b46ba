// An EventStoreDB (KurrentDB) protocol stand-in: an in-memory gRPC server on loopback that speaks
// the v1 client protocol the adapter uses (ServerFeatures, Streams Read/Append/BatchAppend/
// Delete/Tombstone, Gossip), served from the service definitions that ship inside
// @eventstore/db-client (generated/*_grpc_pb.js) so the real client drives it byte for byte.
// No EventStoreDB/KurrentDB server can be installed on the project's machines; this is how the
// adapter runs in every CI run. It is a stand-in, never the production path, and it is not a
// proof that a real server behaves the same: docs/decisions/0003-eventstoredb-adapter.md says
// what has been run against what.
//
// The server rules it mirrors, each with the KurrentDB source file it comes from (paths in the
// EventStore/EventStore repository, now kurrent-io/KurrentDB):
// - Idempotency (src/EventStore.Core/Services/Storage/ReaderIndex/IndexWriter.cs, CheckCommit):
//   with an exact revision or no_stream the ids are compared with the events at the expected
//   slots, in order, from the log (durable); a first id that does not match is a wrong expected
//   version, a later one "corrupted idempotency". With `any`/`exists` the check looks the ids up
//   in a bounded in-memory cache of committed event ids (`_committedEvents`), ignoring order;
//   the cache is lost on restart, so a retry after a restart writes duplicates.
// - Positions (src/EventStore.Core/Services/Transport/Grpc/Streams.Append.cs, BatchAppend.cs):
//   gRPC appends write each event as its own prepare+commit, so every event has its own commit
//   position and commit == prepare. Positions are log byte offsets: increasing, not contiguous.
// - Reads (src/EventStore.Core/Services/Transport/Grpc/Enumerators.ReadAll*.cs,
//   Enumerators.AllSubscription*.cs): a forward `$all` read from a position includes the event
//   at it, a backward one returns what precedes it; a subscription from a position starts after
//   it. Filtered subscriptions send checkpoints every checkpointIntervalMultiplier × max search
//   window events scanned, and caught_up / fell_behind as they switch between catch-up and live.
// - Errors (src/EventStore.Core/Services/Transport/Grpc/RpcExceptions.cs): trailers
//   `exception: <kind>` (access-denied, not-leader + leader-endpoint-host/port, stream-deleted +
//   stream-name, maximum-append-size-exceeded + maximum-append-size). BatchAppend instead answers
//   each append with a google.rpc.Status whose Any detail names the failure (WrongExpectedVersion
//   with code FAILED_PRECONDITION, MaximumAppendSizeExceeded, StreamDeleted, AccessDenied,
//   Timeout); plain Append reports a wrong expected version inside AppendResp.
// - MaxAppendSize (ClusterVNodeOptions, default 1 MiB), counted over data + metadata of the append.
// - `$`-prefixed system streams and event types live in `$all` too (the adapter skips them).
import * as grpc from '@grpc/grpc-js';

type SurfaceCall = grpc.ServerUnaryCall<any, any> | grpc.ServerReadableStream<any, any> | grpc.ServerWritableStream<any, any> | grpc.ServerDuplexStream<any, any>;
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
type StreamsPbT = typeof import('@eventstore/db-client/generated/streams_pb.js');
type SharedPbT = typeof import('@eventstore/db-client/generated/shared_pb.js');
type GossipPbT = typeof import('@eventstore/db-client/generated/gossip_pb.js');
type FeaturesPbT = typeof import('@eventstore/db-client/generated/serverfeatures_pb.js');
type StatusPbT = typeof import('@eventstore/db-client/generated/status_pb.js');
type ReadReq = InstanceType<StreamsPbT['ReadReq']>;
type ReadOptions = InstanceType<StreamsPbT['ReadReq']['Options']>;
type UUIDMsg = InstanceType<SharedPbT['UUID']>;

const gen = (name: string) => require(`@eventstore/db-client/generated/${name}`);
const streamsPb: StreamsPbT = gen('streams_pb.js');
const sharedPb: SharedPbT = gen('shared_pb.js');
const gossipPb: GossipPbT = gen('gossip_pb.js');
const featuresPb: FeaturesPbT = gen('serverfeatures_pb.js');
const statusPb: StatusPbT = gen('status_pb.js');
const { StreamsService } = gen('streams_grpc_pb.js');
const { GossipService } = gen('gossip_grpc_pb.js');
const { ServerFeaturesService } = gen('serverfeatures_grpc_pb.js');
const { Any } = require('google-protobuf/google/protobuf/any_pb.js');
const { Empty: GEmpty } = require('google-protobuf/google/protobuf/empty_pb.js');

/** google.rpc.Code values used in BatchAppend answers. */
const RPC_CODE = { DEADLINE_EXCEEDED: 4, PERMISSION_DENIED: 7, FAILED_PRECONDITION: 9, INVALID_ARGUMENT: 3 } as const;

export interface StoredEvent {
  streamId: string;
  revision: bigint;
  id: string;
  type: string;
  contentType: string;
  data: Uint8Array;
  customMetadata: Uint8Array;
  /** Commit position (== prepare position unless the sharedCommitPosition mutation is on). */
  commit: bigint;
  prepare: bigint;
  createdTicks: bigint;
}

interface StreamState {
  events: StoredEvent[];
  /** Soft delete: events below this revision are hidden; revisions continue after it. */
  truncateBefore: bigint;
  tombstoned: boolean;
}

/**
 * Deliberate departures from the server's rules. Each one is proven to make some contract test
 * fail (test/contract/eventstoredb-stand-in-mutations.test.ts): the suite is sensitive to it.
 */
export interface Mutations {
  /** All events of one append share the first one's commit position (as TCP transactions did). */
  sharedCommitPosition?: boolean;
  /** The expected revision is not checked: every append is written as if `any`. */
  noConcurrencyCheck?: boolean;
  /** Backward stream reads come back oldest first. */
  backwardReadsForward?: boolean;
}

export interface Faults {
  /** Every call fails with UNAVAILABLE (as a node that lost its quorum answers). */
  unavailable: boolean;
  /** Delay before each reply (and between streamed messages of a read). */
  delayMs: number;
}

export interface EventStoreDbStandInOptions {
  /** `batch` (ServerFeatures lists BatchAppend, as real servers do) or `append` (it does not). */
  appendMode?: 'batch' | 'append';
  /** false: ServerFeatures answers UNIMPLEMENTED, like servers before 21.10. */
  serverFeatures?: boolean;
  /** MaxAppendSize in bytes (data + metadata of one append); the server's default is 1 MiB. */
  maxAppendSizeBytes?: number;
  /** Size of the `any` idempotency cache (event ids); bounded like the server's. */
  idempotencyCacheSize?: number;
  /** When set, every Streams call needs one of these users (HTTP basic, over TLS). */
  users?: Record<string, string>;
  /** Serve TLS with this certificate (PEM) instead of plaintext. */
  tls?: { cert: string; key: string };
  /** How many nodes answer Gossip (one shared log; node 0 starts as leader). */
  nodes?: number;
  mutations?: Mutations;
  /** Live subscribers that fall this many events behind get fell_behind and catch up again. */
  liveBufferEvents?: number;
}

export interface StandInNode {
  port: number;
  state: 'leader' | 'follower';
  alive: boolean;
  /** Calls this node served, by method name (Read, Append, BatchAppend, …). */
  calls: Map<string, number>;
}

class Rejection extends Error {
  constructor(
    readonly grpcCode: grpc.status,
    readonly trailers: Record<string, string>,
    message: string,
    /** The detail BatchAppend puts into its google.rpc.Status. */
    readonly batchDetail?: { code: number; typeName: string; bytes: Uint8Array },
  ) {
    super(message);
  }
}

type CheckDecision =
  | { kind: 'ok'; current: bigint }
  | { kind: 'idempotent'; current: bigint; last: StoredEvent }
  | { kind: 'wrong'; current: bigint };

type Expected = { kind: 'any' } | { kind: 'exists' } | { kind: 'revision'; revision: bigint /* -1 = no_stream */ };

export class EventStoreDbStandIn {
  readonly mutations: Mutations;
  readonly faults: Faults = { unavailable: false, delayMs: 0 };
  readonly nodes: StandInNode[] = [];
  private readonly servers: (grpc.Server | null)[] = [];
  private readonly log: StoredEvent[] = [];
  private readonly streams = new Map<string, StreamState>();
  private readonly idCache = new Map<string, StoredEvent>();
  private nextPosition = 0n;
  private readonly listeners = new Set<() => void>();
  private readonly calls = new Set<SurfaceCall>();
  private cut: { kind: 'read' | 'subscription'; afterEvents: number } | null = null;
  private loseReplies = 0;
  private readonly appendMode: 'batch' | 'append';

  constructor(private readonly options: EventStoreDbStandInOptions = {}) {
    this.mutations = { ...options.mutations };
    this.appendMode = options.appendMode ?? 'batch';
    // A fresh server writes its own system events first ($epoch-information and the like).
    this.writeSystemEvent('$epoch-information', '$epoch-information', { epochNumber: 0 });
    this.writeSystemEvent('$settings', 'update-default-acl', { $userStreamAcl: {}, $systemStreamAcl: {} });
  }

  /** esdb:// connection string of node 0 (plaintext unless TLS is configured). */
  get url(): string {
    return this.urlOf(0);
  }

  urlOf(node: number, extra = ''): string {
    const tls = this.options.tls ? 'true' : 'false';
    return `esdb://127.0.0.1:${this.nodes[node].port}?tls=${tls}${extra}`;
  }

  /** esdb+discover:// through node `seed`'s gossip. */
  discoverUrl(seed = 0, extra = ''): string {
    return `esdb+discover://127.0.0.1:${this.nodes[seed].port}?tls=${this.options.tls ? 'true' : 'false'}&discoveryInterval=50&maxDiscoverAttempts=20${extra}`;
  }

  get events(): readonly StoredEvent[] {
    return this.log;
  }

  /** Events of a stream as stored (including soft-deleted ones). */
  stream(streamId: string): readonly StoredEvent[] {
    return this.streams.get(streamId)?.events ?? [];
  }

  async start(): Promise<this> {
    const count = Math.max(1, this.options.nodes ?? 1);
    for (let i = 0; i < count; i++) {
      this.nodes.push({ port: 0, state: i === 0 ? 'leader' : 'follower', alive: true, calls: new Map() });
      this.servers.push(null);
      await this.listen(i);
    }
    return this;
  }

  private async listen(i: number): Promise<void> {
    const server = new grpc.Server({ 'grpc.max_receive_message_length': 17 * 1024 * 1024 });
    server.addService(StreamsService, this.streamsImpl(i));
    server.addService(GossipService, { read: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => this.gossip(i, call, cb) });
    server.addService(ServerFeaturesService, {
      getSupportedMethods: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => this.features(i, cb),
    });
    const creds = this.options.tls
      ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(this.options.tls.cert), private_key: Buffer.from(this.options.tls.key) }], false)
      : grpc.ServerCredentials.createInsecure();
    const want = this.nodes[i].port;
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${want}`, creds, (err, p) => (err ? reject(err) : resolve(p))),
    );
    this.nodes[i].port = port;
    this.nodes[i].alive = true;
    this.servers[i] = server;
  }

  /** Stops node `i` abruptly (connections reset), keeping the log. */
  async stopNode(i: number): Promise<void> {
    const server = this.servers[i];
    this.servers[i] = null;
    this.nodes[i].alive = false;
    if (!server) return;
    server.forceShutdown();
  }

  /** Starts node `i` again on its port. */
  async startNode(i: number): Promise<void> {
    if (!this.servers[i]) await this.listen(i);
  }

  /**
   * A server restart: every node drops its connections and comes back on the same port. The log
   * is durable; the `any` idempotency cache is memory and comes back empty.
   */
  async restart(downMs = 0): Promise<void> {
    for (let i = 0; i < this.nodes.length; i++) await this.stopNode(i);
    this.idCache.clear();
    for (const c of this.calls) (c as { destroy?: () => void }).destroy?.();
    this.calls.clear();
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    for (let i = 0; i < this.nodes.length; i++) await this.startNode(i);
  }

  /** Makes node `i` the leader (the others followers), as an election would. */
  electLeader(i: number): void {
    this.nodes.forEach((n, j) => (n.state = j === i ? 'leader' : 'follower'));
  }

  /** The next read (or subscription) is cut with UNAVAILABLE after sending `afterEvents` events. */
  cutNext(kind: 'read' | 'subscription', afterEvents: number): void {
    this.cut = { kind, afterEvents };
  }

  /** The next `n` appends are written, but their answers are lost (the call fails UNAVAILABLE). */
  loseNextAppendReplies(n = 1): void {
    this.loseReplies = n;
  }

  /** Writes an event of the server's own (a `$` stream or type), as a real node does. */
  writeSystemEvent(streamId: string, type: string, data: unknown): StoredEvent {
    const state = this.streamState(streamId);
    return this.commit(streamId, state, [
      { id: randomUUID(), type, contentType: 'application/json', data: Buffer.from(JSON.stringify(data)), customMetadata: new Uint8Array() },
    ]).at(-1)!;
  }

  async close(): Promise<void> {
    for (const c of this.calls) (c as { destroy?: () => void }).destroy?.();
    for (let i = 0; i < this.nodes.length; i++) await this.stopNode(i);
  }

  // ---- the log -------------------------------------------------------------------------------

  private streamState(streamId: string): StreamState {
    let s = this.streams.get(streamId);
    if (!s) {
      s = { events: [], truncateBefore: 0n, tombstoned: false };
      this.streams.set(streamId, s);
    }
    return s;
  }

  /** Current revision for expected-version checks: -1 when absent or soft-deleted and empty. */
  private currentOf(s: StreamState | undefined): bigint {
    if (!s || s.events.length === 0) return -1n;
    const last = s.events[s.events.length - 1].revision;
    return last < s.truncateBefore ? -1n : last;
  }

  /** IndexWriter.CheckCommit, for the cases gRPC appends reach. */
  private check(streamId: string, expected: Expected, ids: string[]): CheckDecision {
    const s = this.streams.get(streamId);
    const current = this.currentOf(s);
    if (expected.kind === 'any' || expected.kind === 'exists') {
      // Bounded cache, order ignored: the first id decides whether this is a retry at all; a
      // later id missing after a first hit is "corrupted idempotency" (answered as a wrong
      // expected version).
      const hits = ids.map((id) => this.idCache.get(id));
      if (hits[0] === undefined || hits[0].streamId !== streamId) {
        if (expected.kind === 'exists' && current < 0n) return { kind: 'wrong', current };
        return { kind: 'ok', current };
      }
      if (hits.some((h) => h === undefined || h.streamId !== streamId)) return { kind: 'wrong', current };
      return { kind: 'idempotent', current, last: hits.reduce((a, b) => (b!.revision > a!.revision ? b : a))! };
    }
    if (this.mutations.noConcurrencyCheck) return { kind: 'ok', current };
    const at = expected.revision;
    if (at === current) return { kind: 'ok', current };
    if (at > current) return { kind: 'wrong', current };
    // at < current: a retry lands on the slots after `at`, compared in order, from the log.
    let last: StoredEvent | undefined;
    for (let i = 0; i < ids.length; i++) {
      const slot = s!.events.find((e) => e.revision === at + 1n + BigInt(i));
      if (!slot || slot.id !== ids[i]) return { kind: 'wrong', current };
      last = slot;
    }
    return { kind: 'idempotent', current, last: last! };
  }

  private commit(
    streamId: string,
    s: StreamState,
    proposed: { id: string; type: string; contentType: string; data: Uint8Array; customMetadata: Uint8Array }[],
  ): StoredEvent[] {
    const lastRev = s.events.length ? s.events[s.events.length - 1].revision : -1n;
    const created = BigInt(Date.now()) * 10_000n;
    const written: StoredEvent[] = [];
    let shared: bigint | null = null;
    for (const [i, p] of proposed.entries()) {
      const position = this.nextPosition;
      // A prepare record's size on disk, roughly: positions are byte offsets, not counters.
      this.nextPosition += BigInt(90 + streamId.length + p.type.length + p.data.length + p.customMetadata.length);
      if (shared === null) shared = position;
      const e: StoredEvent = {
        streamId,
        revision: lastRev + 1n + BigInt(i),
        ...p,
        commit: this.mutations.sharedCommitPosition ? shared : position,
        prepare: position,
        createdTicks: created,
      };
      s.events.push(e);
      this.log.push(e);
      written.push(e);
      this.idCache.set(e.id, e);
    }
    const max = this.options.idempotencyCacheSize ?? 100_000;
    while (this.idCache.size > max) this.idCache.delete(this.idCache.keys().next().value!);
    for (const wake of this.listeners) wake();
    return written;
  }

  /** Checks and writes one append; the answer for both append RPCs. */
  private appendOne(
    streamId: string,
    expected: Expected,
    proposed: { id: string; type: string; contentType: string; data: Uint8Array; customMetadata: Uint8Array }[],
  ): { ok: true; revision: bigint; position: bigint } | { ok: false; current: bigint } {
    const size = proposed.reduce((n, p) => n + p.data.length + p.customMetadata.length, 0);
    const max = this.options.maxAppendSizeBytes ?? 1024 * 1024;
    if (size > max) throw maxAppendSize(max);
    const s = this.streams.get(streamId);
    if (s?.tombstoned) throw streamDeleted(streamId);
    const decision = this.check(streamId, expected, proposed.map((p) => p.id));
    if (decision.kind === 'wrong') return { ok: false, current: decision.current };
    if (decision.kind === 'idempotent') return { ok: true, revision: decision.last.revision, position: decision.last.commit };
    const written = this.commit(streamId, this.streamState(streamId), proposed);
    const last = written[written.length - 1];
    return { ok: true, revision: last.revision, position: last.commit };
  }

  // ---- shared call handling --------------------------------------------------------------------

  /** Faults, leadership and credentials, checked before any Streams call does its work. */
  private async admit(node: number, method: string, call: SurfaceCall): Promise<void> {
    const calls = this.nodes[node].calls;
    calls.set(method, (calls.get(method) ?? 0) + 1);
    if (this.faults.delayMs > 0) await sleep(this.faults.delayMs);
    if (this.faults.unavailable) throw new Rejection(grpc.status.UNAVAILABLE, {}, 'Server Is Not Ready');
    const md = call.metadata;
    if (md.get('requires-leader')[0] === 'true' && this.nodes[node].state !== 'leader') {
      const leader = this.nodes.find((n) => n.state === 'leader' && n.alive);
      throw new Rejection(
        grpc.status.NOT_FOUND,
        { exception: 'not-leader', 'leader-endpoint-host': '127.0.0.1', 'leader-endpoint-port': String(leader?.port ?? 0) },
        'Leader info available',
      );
    }
    const users = this.options.users;
    if (users) {
      const auth = String(md.get('authorization')[0] ?? '');
      const m = /^Basic (.+)$/.exec(auth);
      if (!m) throw accessDenied();
      const [user, ...rest] = Buffer.from(m[1], 'base64').toString('utf8').split(':');
      if (users[user] === undefined || users[user] !== rest.join(':')) {
        throw new Rejection(grpc.status.UNAUTHENTICATED, {}, 'Bad credentials');
      }
    }
  }

  private track(call: SurfaceCall): void {
    this.calls.add(call);
    const e = call as unknown as NodeJS.EventEmitter;
    e.on('cancelled', () => this.calls.delete(call));
    e.on('finish', () => this.calls.delete(call));
  }

  private streamsImpl(node: number) {
    return {
      read: (call: grpc.ServerWritableStream<ReadReq, unknown>) => {
        this.track(call);
        void this.admit(node, 'Read', call)
          .then(() => this.read(call))
          .catch((err) => failStream(call, err));
      },
      append: (call: grpc.ServerReadableStream<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => this.append(node, call, cb),
      batchAppend: (call: grpc.ServerDuplexStream<unknown, unknown>) => this.batchAppend(node, call),
      delete: (call: grpc.ServerUnaryCall<any, unknown>, cb: grpc.sendUnaryData<unknown>) => this.deleteStream(node, call, cb, false),
      tombstone: (call: grpc.ServerUnaryCall<any, unknown>, cb: grpc.sendUnaryData<unknown>) => this.deleteStream(node, call, cb, true),
    };
  }

  private features(node: number, cb: grpc.sendUnaryData<unknown>): void {
    this.nodes[node].calls.set('GetSupportedMethods', (this.nodes[node].calls.get('GetSupportedMethods') ?? 0) + 1);
    if (this.options.serverFeatures === false) return cb({ code: grpc.status.UNIMPLEMENTED, details: 'Method not found' } as grpc.ServiceError, null);
    const methods = new featuresPb.SupportedMethods();
    methods.setEventStoreServerVersion('24.10.0-stand-in');
    const add = (service: string, method: string, features: string[] = []) => {
      const m = new featuresPb.SupportedMethod();
      m.setServiceName(service);
      m.setMethodName(method);
      m.setFeaturesList(features);
      methods.addMethods(m);
    };
    const streams = 'event_store.client.streams.streams';
    add(streams, 'read', ['position', 'events', 'all']);
    add(streams, 'append');
    if (this.appendMode === 'batch') add(streams, 'batchappend');
    add(streams, 'delete');
    add(streams, 'tombstone');
    add('event_store.client.gossip.gossip', 'read');
    add('event_store.client.server_features.serverfeatures', 'getsupportedmethods');
    cb(null, methods);
  }

  private gossip(node: number, _call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>): void {
    this.nodes[node].calls.set('Gossip', (this.nodes[node].calls.get('Gossip') ?? 0) + 1);
    if (this.faults.unavailable) return cb({ code: grpc.status.UNAVAILABLE, details: 'Server Is Not Ready' } as grpc.ServiceError, null);
    const info = new gossipPb.ClusterInfo();
    for (const [i, n] of this.nodes.entries()) {
      const m = new gossipPb.MemberInfo();
      const id = new sharedPb.UUID();
      id.setString(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
      m.setInstanceId(id);
      m.setTimeStamp(String(BigInt(Date.now()) * 10_000n));
      m.setState(n.state === 'leader' ? gossipPb.MemberInfo.VNodeState.LEADER : gossipPb.MemberInfo.VNodeState.FOLLOWER);
      m.setIsAlive(n.alive);
      const ep = new gossipPb.EndPoint();
      ep.setAddress('127.0.0.1');
      ep.setPort(n.port);
      m.setHttpEndPoint(ep);
      info.addMembers(m);
    }
    cb(null, info);
  }

  // ---- Append (client streaming: options, then one message per event) --------------------------

  private append(node: number, call: grpc.ServerReadableStream<any, unknown>, cb: grpc.sendUnaryData<unknown>): void {
    this.track(call);
    let options: any = null;
    const proposed: ReturnType<typeof fromProposed>[] = [];
    call.on('data', (req: any) => {
      if (req.hasOptions()) options = req.getOptions();
      else if (req.hasProposedMessage()) proposed.push(fromProposed(req.getProposedMessage()));
    });
    call.on('error', () => undefined);
    call.on('end', () => {
      void (async () => {
        await this.admit(node, 'Append', call);
        if (!options) throw new Rejection(grpc.status.INVALID_ARGUMENT, {}, 'append without options');
        const streamId = Buffer.from(options.getStreamIdentifier().getStreamName()).toString('utf8');
        const expected: Expected = options.hasRevision()
          ? { kind: 'revision', revision: BigInt(options.getRevision()) }
          : options.hasNoStream()
            ? { kind: 'revision', revision: -1n }
            : options.hasStreamExists()
              ? { kind: 'exists' }
              : { kind: 'any' };
        const result = this.appendOne(streamId, expected, proposed);
        if (result.ok && this.loseReplies > 0) {
          this.loseReplies--;
          throw new Rejection(grpc.status.UNAVAILABLE, {}, 'stand-in: connection lost before the answer');
        }
        const resp = new streamsPb.AppendResp();
        if (result.ok) {
          const success = new streamsPb.AppendResp.Success();
          success.setCurrentRevision(String(result.revision));
          const pos = new streamsPb.AppendResp.Position();
          pos.setCommitPosition(String(result.position));
          pos.setPreparePosition(String(result.position));
          success.setPosition(pos);
          resp.setSuccess(success);
        } else {
          const wev = new streamsPb.AppendResp.WrongExpectedVersion();
          if (result.current < 0n) wev.setCurrentNoStream(new sharedPb.Empty());
          else wev.setCurrentRevision(String(result.current));
          if (expected.kind === 'revision' && expected.revision >= 0n) wev.setExpectedRevision(String(expected.revision));
          else if (expected.kind === 'revision') wev.setExpectedNoStream(new sharedPb.Empty());
          else if (expected.kind === 'exists') wev.setExpectedStreamExists(new sharedPb.Empty());
          else wev.setExpectedAny(new sharedPb.Empty());
          resp.setWrongExpectedVersion(wev);
        }
        cb(null, resp);
      })().catch((err) => cb(toServiceError(err), null));
    });
  }

  // ---- BatchAppend (bidirectional: appends keyed by correlation id, answered one by one) ---------

  private batchAppend(node: number, call: grpc.ServerDuplexStream<any, unknown>): void {
    this.track(call);
    const pending = new Map<string, { options: any; proposed: ReturnType<typeof fromProposed>[] }>();
    let queue = Promise.resolve();
    call.on('error', () => undefined);
    call.on('end', () => void queue.then(() => call.end()));
    call.on('data', (req: any) => {
      const correlation = uuidOf(req.getCorrelationId());
      const entry = pending.get(correlation) ?? { options: null, proposed: [] };
      pending.set(correlation, entry);
      if (req.hasOptions()) entry.options = req.getOptions();
      for (const m of req.getProposedMessagesList()) entry.proposed.push(fromProposed(m));
      if (!req.getIsFinal()) return;
      pending.delete(correlation);
      queue = queue.then(() => this.answerBatch(node, call, req.getCorrelationId(), entry)).catch((err) => failStream(call, err));
    });
  }

  private async answerBatch(node: number, call: grpc.ServerDuplexStream<any, unknown>, correlationId: UUIDMsg, entry: { options: any; proposed: ReturnType<typeof fromProposed>[] }): Promise<void> {
    const options = entry.options;
    const resp = new streamsPb.BatchAppendResp();
    resp.setCorrelationId(correlationId);
    const identifier = options.getStreamIdentifier();
    resp.setStreamIdentifier(identifier);
    const streamId = Buffer.from(identifier.getStreamName()).toString('utf8');
    const expected: Expected = options.hasStreamPosition()
      ? { kind: 'revision', revision: BigInt(options.getStreamPosition()) }
      : options.hasNoStream()
        ? { kind: 'revision', revision: -1n }
        : options.hasStreamExists()
          ? { kind: 'exists' }
          : { kind: 'any' };
    if (expected.kind === 'revision' && expected.revision >= 0n) resp.setStreamPosition(String(expected.revision));
    else if (expected.kind === 'revision') resp.setNoStream(new GEmpty());
    else if (expected.kind === 'exists') resp.setStreamExists(new GEmpty());
    else resp.setAny(new GEmpty());
    try {
      // Connection-level failures (unavailable, not leader, credentials) end the whole call.
      await this.admit(node, 'BatchAppend', call);
    } catch (err) {
      if (err instanceof Rejection && err.batchDetail) return this.sendBatchError(call, resp, err);
      throw err;
    }
    const deadline = options.getDeadline()?.toDate() as Date | undefined;
    if (deadline && deadline.getTime() < Date.now()) {
      return this.sendBatchError(call, resp, detailRejection(RPC_CODE.DEADLINE_EXCEEDED, 'event_store.client.Timeout', new sharedPb.Timeout(), 'timeout'));
    }
    let result: ReturnType<EventStoreDbStandIn['appendOne']>;
    try {
      result = this.appendOne(streamId, expected, entry.proposed);
    } catch (err) {
      if (err instanceof Rejection && err.batchDetail) return this.sendBatchError(call, resp, err);
      throw err;
    }
    if (result.ok && this.loseReplies > 0) {
      this.loseReplies--;
      throw new Rejection(grpc.status.UNAVAILABLE, {}, 'stand-in: connection lost before the answer');
    }
    if (result.ok) {
      const success = new streamsPb.BatchAppendResp.Success();
      success.setCurrentRevision(String(result.revision));
      const pos = new sharedPb.AllStreamPosition();
      pos.setCommitPosition(String(result.position));
      pos.setPreparePosition(String(result.position));
      success.setPosition(pos);
      resp.setSuccess(success);
    } else {
      const wev = new sharedPb.WrongExpectedVersion();
      if (result.current < 0n) wev.setCurrentNoStream(new GEmpty());
      else wev.setCurrentStreamRevision(String(result.current));
      if (expected.kind === 'revision' && expected.revision >= 0n) wev.setExpectedStreamPosition(String(expected.revision));
      else if (expected.kind === 'revision') wev.setExpectedNoStream(new GEmpty());
      else if (expected.kind === 'exists') wev.setExpectedStreamExists(new GEmpty());
      else wev.setExpectedAny(new GEmpty());
      // WrongExpectedVersion travels as google.rpc.Status code 9 with the detail packed in an Any.
      return this.sendBatchError(call, resp, detailRejection(RPC_CODE.FAILED_PRECONDITION, 'event_store.client.WrongExpectedVersion', wev, ''));
    }
    await write(call, resp);
  }

  private async sendBatchError(call: grpc.ServerDuplexStream<any, unknown>, resp: any, err: Rejection): Promise<void> {
    const d = err.batchDetail!;
    const status = new statusPb.Status();
    status.setCode(d.code as never);
    status.setMessage(err.message);
    const any = new Any();
    any.pack(d.bytes, d.typeName);
    status.setDetails(any);
    resp.setError(status);
    await write(call, resp);
  }

  // ---- Delete / Tombstone ----------------------------------------------------------------------

  private deleteStream(node: number, call: grpc.ServerUnaryCall<any, unknown>, cb: grpc.sendUnaryData<unknown>, hard: boolean): void {
    void (async () => {
      await this.admit(node, hard ? 'Tombstone' : 'Delete', call);
      const options = call.request.getOptions();
      const streamId = Buffer.from(options.getStreamIdentifier().getStreamName()).toString('utf8');
      const s = this.streamState(streamId);
      if (s.tombstoned) throw streamDeleted(streamId);
      const current = this.currentOf(s);
      if (options.hasRevision() && BigInt(options.getRevision()) !== current) {
        throw new Rejection(grpc.status.FAILED_PRECONDITION, { exception: 'wrong-expected-version', 'stream-name': streamId, 'expected-version': options.getRevision(), 'actual-version': String(current) }, 'Wrong expected version');
      }
      if (hard) s.tombstoned = true;
      else s.truncateBefore = current + 1n;
      const resp = hard ? new streamsPb.TombstoneResp() : new streamsPb.DeleteResp();
      const pos = hard ? new streamsPb.TombstoneResp.Position() : new streamsPb.DeleteResp.Position();
      pos.setCommitPosition(String(this.nextPosition));
      pos.setPreparePosition(String(this.nextPosition));
      (resp as any).setPosition(pos);
      cb(null, resp);
    })().catch((err) => cb(toServiceError(err), null));
  }

  // ---- Read: streams, $all, subscriptions --------------------------------------------------------

  private async read(call: grpc.ServerWritableStream<ReadReq, unknown>): Promise<void> {
    const options = call.request.getOptions()!;
    const structured = options.getUuidOption()?.hasStructured() ?? false;
    if (options.hasSubscription()) {
      if (!options.hasAll()) throw new Rejection(grpc.status.UNIMPLEMENTED, {}, 'the stand-in serves $all subscriptions only');
      return this.subscribe(call, options, structured);
    }
    const backward = options.getReadDirection() === streamsPb.ReadReq.Options.ReadDirection.BACKWARDS;
    const count = options.hasCount() ? BigInt(options.getCount()) : 0n;
    const cut = this.takeCut('read');
    let sent = 0;
    const send = async (e: StoredEvent, all: boolean) => {
      if (cut !== null && sent >= cut) throw new Rejection(grpc.status.UNAVAILABLE, {}, 'stand-in: connection cut mid-read');
      if (this.faults.delayMs > 0) await sleep(this.faults.delayMs);
      await write(call, readEvent(e, structured, all));
      sent++;
    };
    if (options.hasStream()) {
      const so = options.getStream()!;
      const streamId = Buffer.from(so.getStreamIdentifier()!.getStreamName()).toString('utf8');
      const s = this.streams.get(streamId);
      if (s?.tombstoned) throw streamDeleted(streamId);
      const visible = (s?.events ?? []).filter((e) => e.revision >= (s?.truncateBefore ?? 0n));
      if (visible.length === 0) {
        const resp = new streamsPb.ReadResp();
        const nf = new streamsPb.ReadResp.StreamNotFound();
        nf.setStreamIdentifier(so.getStreamIdentifier());
        resp.setStreamNotFound(nf);
        await write(call, resp);
        call.end();
        return;
      }
      let picked: StoredEvent[];
      if (backward && !this.mutations.backwardReadsForward) {
        const from = so.hasRevision() ? BigInt(so.getRevision()) : null;
        picked = visible.filter((e) => from === null || e.revision <= from).reverse();
      } else {
        const from = so.hasRevision() ? BigInt(so.getRevision()) : so.hasEnd() ? null : 0n;
        picked = from === null && !backward ? [] : visible.filter((e) => from === null || e.revision >= from);
      }
      for (const e of picked.slice(0, Number(count))) {
        if (call.cancelled) return;
        await send(e, false);
      }
      call.end();
      return;
    }
    // $all
    const ao = options.getAll()!;
    const matches = filterOf(options);
    let candidates: StoredEvent[];
    if (backward) {
      const before = ao.hasPosition() ? BigInt(ao.getPosition()!.getCommitPosition()) : null;
      candidates = this.log.filter((e) => before === null || e.commit < before).reverse();
      if (ao.hasStart()) candidates = [];
    } else {
      const from = ao.hasPosition() ? BigInt(ao.getPosition()!.getCommitPosition()) : ao.hasEnd() ? null : -1n;
      candidates = from === null ? [] : this.log.filter((e) => e.commit >= from);
    }
    let n = 0n;
    for (const e of candidates) {
      if (n >= count || call.cancelled) break;
      if (!matches(e)) continue;
      await send(e, true);
      n++;
    }
    call.end();
  }

  private async subscribe(call: grpc.ServerWritableStream<ReadReq, unknown>, options: ReadOptions, structured: boolean): Promise<void> {
    const ao = options.getAll()!;
    const matches = filterOf(options);
    const fo = options.hasFilter() ? options.getFilter()! : null;
    const window = fo?.hasMax() ? fo.getMax() : 32;
    const checkpointEvery = fo ? Math.max(1, fo.getCheckpointintervalmultiplier() * window) : Infinity;
    // Index into the log of the next event to look at. From a position: strictly after it.
    let next = 0;
    if (ao.hasEnd()) next = this.log.length;
    else if (ao.hasPosition()) {
      const after = BigInt(ao.getPosition()!.getCommitPosition());
      next = this.log.findIndex((e) => e.commit > after);
      if (next < 0) next = this.log.length;
    }
    const cut = this.takeCut('subscription');
    const confirm = new streamsPb.ReadResp();
    const c = new streamsPb.ReadResp.SubscriptionConfirmation();
    c.setSubscriptionId(randomUUID());
    confirm.setConfirmation(c);
    await write(call, confirm);

    let wake: (() => void) | null = null;
    const listener = () => wake?.();
    this.listeners.add(listener);
    const closed = new Promise<void>((resolve) => {
      call.on('cancelled', resolve);
      call.on('close', resolve);
    });
    let sent = 0;
    let scanned = 0;
    let live = false;
    const liveBuffer = this.options.liveBufferEvents ?? 500;
    try {
      while (!call.cancelled && !call.destroyed) {
        if (live && this.log.length - next > liveBuffer) {
          live = false;
          const fb = new streamsPb.ReadResp();
          fb.setFellBehind(new streamsPb.ReadResp.FellBehind());
          await write(call, fb);
        }
        while (next < this.log.length && !call.cancelled) {
          const e = this.log[next++];
          scanned++;
          if (matches(e)) {
            if (cut !== null && sent >= cut) throw new Rejection(grpc.status.UNAVAILABLE, {}, 'stand-in: subscription cut');
            if (this.faults.delayMs > 0) await sleep(this.faults.delayMs);
            await write(call, readEvent(e, structured, true));
            sent++;
          }
          if (scanned % checkpointEvery === 0) {
            const cp = new streamsPb.ReadResp();
            const chk = new streamsPb.ReadResp.Checkpoint();
            chk.setCommitPosition(String(e.commit));
            chk.setPreparePosition(String(e.prepare));
            cp.setCheckpoint(chk);
            await write(call, cp);
          }
        }
        if (!live) {
          live = true;
          const cu = new streamsPb.ReadResp();
          cu.setCaughtUp(new streamsPb.ReadResp.CaughtUp());
          await write(call, cu);
        }
        if (next >= this.log.length) {
          await Promise.race([new Promise<void>((r) => (wake = r)), closed]);
          wake = null;
        }
      }
    } finally {
      this.listeners.delete(listener);
    }
  }

  private takeCut(kind: 'read' | 'subscription'): number | null {
    if (!this.cut || this.cut.kind !== kind) return null;
    const n = this.cut.afterEvents;
    this.cut = null;
    return n;
  }
}

export async function startEventStoreDbStandIn(options: EventStoreDbStandInOptions = {}): Promise<EventStoreDbStandIn> {
  return new EventStoreDbStandIn(options).start();
}

// ---- helpers ---------------------------------------------------------------------------------

function fromProposed(m: any) {
  const md = m.getMetadataMap();
  return {
    id: uuidOf(m.getId()).toLowerCase(),
    type: String(md.get('type') ?? ''),
    contentType: String(md.get('content-type') ?? 'application/octet-stream'),
    data: m.getData_asU8() as Uint8Array,
    customMetadata: m.getCustomMetadata_asU8() as Uint8Array,
  };
}

function uuidOf(u: UUIDMsg | undefined): string {
  if (!u) return '';
  if (u.hasStructured()) {
    const s = u.getStructured()!;
    const hex = BigInt.asUintN(64, BigInt(s.getMostSignificantBits())).toString(16).padStart(16, '0') + BigInt.asUintN(64, BigInt(s.getLeastSignificantBits())).toString(16).padStart(16, '0');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  return u.getString();
}

function uuidMsg(id: string, structured: boolean): UUIDMsg {
  const u = new sharedPb.UUID();
  if (!structured) {
    u.setString(id);
    return u;
  }
  const hex = id.replace(/-/g, '');
  const s = new sharedPb.UUID.Structured();
  s.setMostSignificantBits(String(BigInt.asIntN(64, BigInt(`0x${hex.slice(0, 16)}`))));
  s.setLeastSignificantBits(String(BigInt.asIntN(64, BigInt(`0x${hex.slice(16)}`))));
  u.setStructured(s);
  return u;
}

function readEvent(e: StoredEvent, structured: boolean, all: boolean) {
  const rec = new streamsPb.ReadResp.ReadEvent.RecordedEvent();
  rec.setId(uuidMsg(e.id, structured));
  const sid = new sharedPb.StreamIdentifier();
  sid.setStreamName(Buffer.from(e.streamId, 'utf8'));
  rec.setStreamIdentifier(sid);
  rec.setStreamRevision(String(e.revision));
  rec.setCommitPosition(String(e.commit));
  rec.setPreparePosition(String(e.prepare));
  rec.getMetadataMap().set('type', e.type);
  rec.getMetadataMap().set('content-type', e.contentType);
  rec.getMetadataMap().set('created', String(e.createdTicks));
  rec.setCustomMetadata(e.customMetadata);
  rec.setData(e.data);
  const re = new streamsPb.ReadResp.ReadEvent();
  re.setEvent(rec);
  if (all) re.setCommitPosition(String(e.commit));
  else re.setNoPosition(new sharedPb.Empty());
  const resp = new streamsPb.ReadResp();
  resp.setEvent(re);
  return resp;
}

/** The server-side filter of a $all read or subscription (prefixes or a regex, on stream or type). */
function filterOf(options: ReadOptions): (e: StoredEvent) => boolean {
  if (!options.hasFilter()) return () => true;
  const fo = options.getFilter()!;
  const onStream = fo.hasStreamIdentifier();
  const expr = onStream ? fo.getStreamIdentifier()! : fo.getEventType()!;
  const prefixes = expr.getPrefixList();
  const regex = expr.getRegex() ? new RegExp(expr.getRegex()) : null;
  return (e) => {
    const value = onStream ? e.streamId : e.type;
    if (prefixes.length && !prefixes.some((p) => value.startsWith(p))) return false;
    return !regex || regex.test(value);
  };
}

function maxAppendSize(max: number): Rejection {
  const detail = new sharedPb.MaximumAppendSizeExceeded();
  detail.setMaxappendsize(max);
  return new Rejection(
    grpc.status.INVALID_ARGUMENT,
    { exception: 'maximum-append-size-exceeded', 'maximum-append-size': String(max) },
    `Maximum Append Size of ${max} Exceeded.`,
    { code: RPC_CODE.INVALID_ARGUMENT, typeName: 'event_store.client.MaximumAppendSizeExceeded', bytes: detail.serializeBinary() },
  );
}

function streamDeleted(streamId: string): Rejection {
  const detail = new sharedPb.StreamDeleted();
  const sid = new sharedPb.StreamIdentifier();
  sid.setStreamName(Buffer.from(streamId, 'utf8'));
  detail.setStreamIdentifier(sid);
  return new Rejection(grpc.status.FAILED_PRECONDITION, { exception: 'stream-deleted', 'stream-name': streamId }, `Event stream '${streamId}' is deleted.`, {
    code: RPC_CODE.FAILED_PRECONDITION,
    typeName: 'event_store.client.StreamDeleted',
    bytes: detail.serializeBinary(),
  });
}

function accessDenied(): Rejection {
  return new Rejection(grpc.status.PERMISSION_DENIED, { exception: 'access-denied' }, 'Access Denied', {
    code: RPC_CODE.PERMISSION_DENIED,
    typeName: 'event_store.client.AccessDenied',
    bytes: new sharedPb.AccessDenied().serializeBinary(),
  });
}

function detailRejection(code: number, typeName: string, detail: { serializeBinary(): Uint8Array }, message: string): Rejection {
  return new Rejection(grpc.status.UNKNOWN, {}, message, { code, typeName, bytes: detail.serializeBinary() });
}

function toServiceError(err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof Rejection) {
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(err.trailers)) metadata.set(k, v);
    return { code: err.grpcCode, details: err.message, metadata };
  }
  return { code: grpc.status.INTERNAL, details: err instanceof Error ? err.message : String(err) };
}

function failStream(call: grpc.ServerWritableStream<any, unknown> | grpc.ServerDuplexStream<any, unknown>, err: unknown): void {
  if (call.cancelled || call.destroyed) return;
  const status = toServiceError(err);
  // grpc-js turns an 'error' on a server stream into the call's status and trailers.
  call.emit('error', Object.assign(new Error(status.details), status));
}

async function write(call: grpc.ServerWritableStream<any, unknown> | grpc.ServerDuplexStream<any, unknown>, msg: unknown): Promise<void> {
  if (call.cancelled || call.destroyed) return;
  if (!call.write(msg)) {
    await new Promise<void>((resolve) => {
      const done = () => {
        call.off('drain', done);
        call.off('close', done);
        resolve();
      };
      call.on('drain', done);
      call.on('close', done);
    });
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
