// Case commands on a compliance flag's own stream: ReviewComplianceFlag (open → reviewed) and
// CloseComplianceFlag (reviewed → closed). The handler folds the flag's stream, decides with
// ../cases.ts and appends with the expected revision, so two reviewers acting on the same flag
// cannot both win.
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { EVENT_STORE, type EventStore } from '../../ledger/event-store.port.js';
import { newEvent } from '../../ledger/event-types.js';
import type { RecordedEvent } from '../../ledger/envelope.js';
import { commandMetadata, decideAndAppendOne, type CommandContext, type CommandReceipt } from '../../ledger/decide-and-append.js';
import { closeFlag, evolveFlagCase, flagStreamId, reviewFlag, type FlagCase } from '../cases.js';
import { ComplianceFlagClosed, ComplianceFlagReviewed, type CloseOutcome } from '../events.js';

export class ReviewComplianceFlag extends Command<CommandReceipt> {
  constructor(readonly ctx: CommandContext, readonly flagId: string, readonly note: string) {
    super();
  }
}

export class CloseComplianceFlag extends Command<CommandReceipt> {
  constructor(readonly ctx: CommandContext, readonly flagId: string, readonly note: string, readonly outcome?: CloseOutcome) {
    super();
  }
}

const foldFlag = (events: RecordedEvent[]): FlagCase | null => events.reduce<FlagCase | null>(evolveFlagCase, null);

@CommandHandler(ReviewComplianceFlag)
export class ReviewComplianceFlagHandler implements ICommandHandler<ReviewComplianceFlag> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  execute(cmd: ReviewComplianceFlag): Promise<CommandReceipt> {
    return decideAndAppendOne(this.store, {
      streamId: flagStreamId(cmd.flagId),
      eventId: cmd.ctx.eventId,
      fold: foldFlag,
      decide: (flag) => {
        const out = reviewFlag(flag, { flagId: cmd.flagId, actor: cmd.ctx.actor, note: cmd.note });
        return out instanceof Error ? out : newEvent(ComplianceFlagReviewed, out, commandMetadata(cmd.ctx));
      },
    });
  }
}

@CommandHandler(CloseComplianceFlag)
export class CloseComplianceFlagHandler implements ICommandHandler<CloseComplianceFlag> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  execute(cmd: CloseComplianceFlag): Promise<CommandReceipt> {
    return decideAndAppendOne(this.store, {
      streamId: flagStreamId(cmd.flagId),
      eventId: cmd.ctx.eventId,
      fold: foldFlag,
      decide: (flag) => {
        const out = closeFlag(flag, { flagId: cmd.flagId, actor: cmd.ctx.actor, note: cmd.note, outcome: cmd.outcome });
        return out instanceof Error ? out : newEvent(ComplianceFlagClosed, out, commandMetadata(cmd.ctx));
      },
    });
  }
}

export const flagCommandHandlers = [ReviewComplianceFlagHandler, CloseComplianceFlagHandler];
