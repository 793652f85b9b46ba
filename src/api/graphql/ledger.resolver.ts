// GraphQL over the ledger itself: the raw history of a stream as of a time (for audits), the
// log's head, and the projections' status.
import { Inject } from '@nestjs/common';
import { Args, Field, GraphQLISODateTime, ID, Int, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { GraphQLError } from 'graphql';
import GraphQLJSON from './json.scalar.js';
import type { RecordedEvent } from '../../ledger/envelope.js';
import { EVENT_STORE, type EventStore } from '../../ledger/event-store.port.js';
import { ProjectionsService } from '../../projections/projections.module.js';

@ObjectType('EventMetadata')
class EventMetadataType {
  @Field() correlationId!: string;
  @Field(() => String, { nullable: true }) causationId!: string | null;
  @Field() actor!: string;
  @Field() tenant!: string;
}

@ObjectType('LedgerEvent', { description: 'An event exactly as recorded in the ledger' })
export class LedgerEventType {
  @Field(() => ID) id!: string;
  @Field() type!: string;
  @Field(() => Int) version!: number;
  @Field() streamId!: string;
  @Field({ description: 'Revision within the stream (a decimal string: may exceed 2^53)' }) revision!: string;
  @Field({ description: 'Global position (a decimal string)' }) position!: string;
  @Field(() => GraphQLISODateTime) recordedAt!: Date;
  @Field(() => EventMetadataType) metadata!: EventMetadataType;
  @Field(() => GraphQLJSON) payload!: unknown;
  @Field({ description: 'SHA-256 of the canonical content' }) contentHash!: string;
  @Field() hash!: string;
  @Field() prevHash!: string;
}

@ObjectType('ProjectionStatus')
export class ProjectionStatusType {
  @Field() name!: string;
  @Field(() => Int) generation!: number;
  @Field() checkpoint!: string;
  @Field() head!: string;
  @Field({ description: 'Head position minus checkpoint' }) lag!: string;
  @Field(() => String, { nullable: true }) lastError!: string | null;
}

export function toGql(e: RecordedEvent): LedgerEventType {
  return {
    id: e.id,
    type: e.type,
    version: e.version,
    streamId: e.streamId,
    revision: e.revision.toString(),
    position: e.position.toString(),
    recordedAt: new Date(e.recordedAt),
    metadata: e.metadata,
    payload: e.payload,
    contentHash: e.contentHash,
    hash: e.hash,
    prevHash: e.prevHash,
  };
}

@Resolver()
export class LedgerResolver {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly projectionsService: ProjectionsService,
  ) {}

  @Query(() => [LedgerEventType], { description: 'Raw events of a stream as recorded up to `until` (default: now)' })
  async history(
    @Args('streamId') streamId: string,
    @Args('until', { type: () => GraphQLISODateTime, nullable: true }) until?: Date,
    @Args('limit', { type: () => Int, nullable: true, defaultValue: 1000 }) limit = 1000,
  ): Promise<LedgerEventType[]> {
    if (limit < 1 || limit > 10_000) throw new GraphQLError('limit must be between 1 and 10000', { extensions: { code: 'BAD_USER_INPUT' } });
    const cutoff = until ? until.toISOString() : null;
    const events = await this.store.readStream(streamId, { maxCount: limit });
    return events.filter((e) => cutoff === null || e.recordedAt <= cutoff).map(toGql);
  }

  @Query(() => String, { description: 'Global position of the newest event' })
  async headPosition(): Promise<string> {
    return (await this.store.headPosition()).toString();
  }

  @Query(() => [ProjectionStatusType])
  async projections(): Promise<ProjectionStatusType[]> {
    return (await this.projectionsService.runner.status()).map((s) => ({
      name: s.name,
      generation: s.generation,
      checkpoint: s.checkpoint.toString(),
      head: s.head.toString(),
      lag: s.lag.toString(),
      lastError: s.lastError,
    }));
  }
}
