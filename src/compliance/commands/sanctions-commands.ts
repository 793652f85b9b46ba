// ActivateSanctionsList: puts a sanctions list in force for every node by recording
// SanctionsListActivated in `compliance-sanctions-list`, unless the list in force already has the
// same content (the same hash): a reload of an unchanged file, or a second node loading the same
// file, records nothing. Fed by the file at start and on reload (ComplianceService) and by
// PUT /compliance/sanctions-list (the compliance role).
import { createHash } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { commandMetadata, decideAndAppend, type CommandContext, type CommandReceipt } from '../../ledger/decide-and-append.js';
import type { RecordedEvent } from '../../ledger/envelope.js';
import { newEvent } from '../../ledger/event-types.js';
import { EVENT_STORE, type EventStore } from '../../ledger/event-store.port.js';
import { parseSanctionsList, SanctionsListError } from '../sanctions-list.js';
import { SANCTIONS_LIST_STREAM, SanctionsListActivated, type SanctionsListActivatedPayload } from '../events.js';

/** Sorted, distinct entries and their content hash. */
export function sanctionsContent(entries: Iterable<string>): { entries: string[]; contentHash: string } {
  const sorted = [...new Set([...entries].map((e) => e.trim()).filter(Boolean))].sort();
  return { entries: sorted, contentHash: createHash('sha256').update(sorted.join('\n')).digest('hex') };
}

/** What is wrong with a list given by hand (REST), as the file's parser says it; null when it is fine. */
export function sanctionsEntriesProblem(entries: string[]): string | null {
  try {
    parseSanctionsList(JSON.stringify(entries), 'in the request', { allowEmpty: true });
    return null;
  } catch (err) {
    if (err instanceof SanctionsListError) return err.message;
    throw err;
  }
}

export interface SanctionsActivation {
  /** False when the list in force already had this content: nothing was recorded. */
  changed: boolean;
  contentHash: string;
  size: number;
  /** The recorded event, or null when nothing changed. */
  event: CommandReceipt | null;
  position: bigint;
}

const lastActivated = (events: RecordedEvent[]): SanctionsListActivatedPayload | null =>
  (events.filter((e) => e.type === SanctionsListActivated.type).at(-1)?.payload as SanctionsListActivatedPayload | undefined) ?? null;

export async function activateSanctionsList(store: EventStore, ctx: CommandContext, source: string, entries: Iterable<string>): Promise<SanctionsActivation> {
  const content = sanctionsContent(entries);
  const { receipts, position } = await decideAndAppend(store, {
    streamId: SANCTIONS_LIST_STREAM,
    eventId: ctx.eventId,
    fold: lastActivated,
    decide: (inForce) =>
      inForce?.contentHash === content.contentHash
        ? []
        : [newEvent(SanctionsListActivated, { contentHash: content.contentHash, source, entries: content.entries }, commandMetadata(ctx))],
  });
  return { changed: receipts.length > 0, contentHash: content.contentHash, size: content.entries.length, event: receipts[0] ?? null, position };
}

export class ActivateSanctionsList extends Command<SanctionsActivation> {
  constructor(readonly ctx: CommandContext, readonly source: string, readonly entries: string[]) {
    super();
  }
}

@CommandHandler(ActivateSanctionsList)
export class ActivateSanctionsListHandler implements ICommandHandler<ActivateSanctionsList> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  execute(cmd: ActivateSanctionsList): Promise<SanctionsActivation> {
    return activateSanctionsList(this.store, cmd.ctx, cmd.source, cmd.entries);
  }
}
