// Operator commands on the `engine` stream: PauseEngine, ResumeEngine, ReduceEngine, ChangeRiskLimits. Each
// handler folds the engine stream, decides with the pure functions of ../decisions.ts and
// appends with the expected revision (see ledger/decide-and-append.ts).
import { Inject, Logger } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { EVENT_STORE, type EventStore } from '../../ledger/event-store.port.js';
import { newEvent } from '../../ledger/event-types.js';
import type { RecordedEvent } from '../../ledger/envelope.js';
import { commandMetadata, decideAndAppendOne, type CommandContext, type CommandReceipt } from '../../ledger/decide-and-append.js';
import { changeRiskLimits, pauseEngine, reduceEngine, resumeEngine } from '../decisions.js';
import { foldEngineState, type EngineState } from '../engine-state.js';
import { ENGINE_STREAM_ID, EnginePaused, EngineReducing, EngineResumed, RiskLimitsChanged } from '../events.js';
import type { RiskLimits } from '../limits.js';
import { ARBITER_CONFIG } from '../../config/config.module.js';
import type { ArbiterConfig } from '../../config/config.js';

/** The command's input check, published so an edge can refuse a bad body before dispatching. */
export { validateRiskLimits } from '../limits.js';

/** The limits in force before any RiskLimitsChanged; injectable so tests and config can set them. */
export const BASE_RISK_LIMITS = Symbol('BASE_RISK_LIMITS');
export const baseRiskLimitsProvider = { provide: BASE_RISK_LIMITS, inject: [ARBITER_CONFIG], useFactory: (c: ArbiterConfig): RiskLimits => c.risk.defaultLimits };

export class PauseEngine extends Command<CommandReceipt> {
  constructor(readonly ctx: CommandContext, readonly reason: string) {
    super();
  }
}

export class ResumeEngine extends Command<CommandReceipt> {
  constructor(readonly ctx: CommandContext, readonly reason: string) {
    super();
  }
}

/** Only trades that reduce held exposure pass risk while REDUCING (winding down). */
export class ReduceEngine extends Command<CommandReceipt> {
  constructor(readonly ctx: CommandContext, readonly reason: string) {
    super();
  }
}

export class ChangeRiskLimits extends Command<CommandReceipt> {
  /** `limits` is the raw request value: validateRiskLimits checks it (every field required). */
  constructor(readonly ctx: CommandContext, readonly reason: string, readonly limits: unknown) {
    super();
  }
}

abstract class EngineCommandHandler {
  private readonly logger = new Logger('Operator');

  constructor(
    @Inject(EVENT_STORE) protected readonly store: EventStore,
    @Inject(BASE_RISK_LIMITS) protected readonly baseLimits: RiskLimits,
  ) {}

  /** Appends the decided event; the operator's command is logged with who, what and why. */
  protected async run(ctx: CommandContext, command: string, reason: string, decide: (state: EngineState) => ReturnType<typeof newEvent> | Error): Promise<CommandReceipt> {
    const receipt = await decideAndAppendOne(this.store, {
      streamId: ENGINE_STREAM_ID,
      eventId: ctx.eventId,
      fold: (events: RecordedEvent[]) => foldEngineState(events, this.baseLimits),
      decide,
    });
    this.logger.log({ msg: `operator command ${command} by ${ctx.actor}: ${reason}`, command, actor: ctx.actor, reason, event: receipt.type, eventId: receipt.eventId, correlationId: ctx.correlationId });
    return receipt;
  }
}

@CommandHandler(PauseEngine)
export class PauseEngineHandler extends EngineCommandHandler implements ICommandHandler<PauseEngine> {
  execute(cmd: PauseEngine): Promise<CommandReceipt> {
    return this.run(cmd.ctx, 'pause', cmd.reason, (state) => {
      const out = pauseEngine(state, { actor: cmd.ctx.actor, reason: cmd.reason });
      return out instanceof Error ? out : newEvent(EnginePaused, out, commandMetadata(cmd.ctx));
    });
  }
}

@CommandHandler(ResumeEngine)
export class ResumeEngineHandler extends EngineCommandHandler implements ICommandHandler<ResumeEngine> {
  execute(cmd: ResumeEngine): Promise<CommandReceipt> {
    return this.run(cmd.ctx, 'resume', cmd.reason, (state) => {
      const out = resumeEngine(state, { actor: cmd.ctx.actor, reason: cmd.reason });
      return out instanceof Error ? out : newEvent(EngineResumed, out, commandMetadata(cmd.ctx));
    });
  }
}

@CommandHandler(ReduceEngine)
export class ReduceEngineHandler extends EngineCommandHandler implements ICommandHandler<ReduceEngine> {
  execute(cmd: ReduceEngine): Promise<CommandReceipt> {
    return this.run(cmd.ctx, 'reduce', cmd.reason, (state) => {
      const out = reduceEngine(state, { actor: cmd.ctx.actor, reason: cmd.reason });
      return out instanceof Error ? out : newEvent(EngineReducing, out, commandMetadata(cmd.ctx));
    });
  }
}

@CommandHandler(ChangeRiskLimits)
export class ChangeRiskLimitsHandler extends EngineCommandHandler implements ICommandHandler<ChangeRiskLimits> {
  execute(cmd: ChangeRiskLimits): Promise<CommandReceipt> {
    return this.run(cmd.ctx, 'change-risk-limits', cmd.reason, (state) => {
      const out = changeRiskLimits(state, { actor: cmd.ctx.actor, reason: cmd.reason, limits: cmd.limits });
      return out instanceof Error ? out : newEvent(RiskLimitsChanged, out, commandMetadata(cmd.ctx));
    });
  }
}

export const engineCommandHandlers = [PauseEngineHandler, ResumeEngineHandler, ReduceEngineHandler, ChangeRiskLimitsHandler];
