// One given / when / then harness for every decider in the codebase (the saga, the engine state
// and its operator commands, compliance flag cases): given the events so far, when an input (a
// command, or the result of an I/O step), then these events, or this error. A decision may
// return its refusal (an Error value) or throw it; `thenError` accepts both, so a test never
// depends on which style a decider uses.
import { expect } from 'vitest';

export interface Decider<S, E, I, O> {
  initial: () => S;
  evolve: (state: S, event: E) => S;
  decide: (input: I, state: S) => O;
}

type ErrorClass = abstract new (...args: never[]) => Error;

export interface Then<S, O> {
  /** The decision equals `expected`, or passes the assertions of `expected` when it is a function. */
  then(expected: Exclude<O, Error> | ((decision: Exclude<O, Error>, state: S) => void)): Exclude<O, Error>;
  /** The decision is (or throws) an error of `type`, whose message matches `message` when given. */
  thenError(type: ErrorClass, message?: RegExp): Error;
}

export interface Given<S, E, I, O> {
  /** The folded state, for assertions on evolve alone. */
  state(): S;
  /** Folding the given events is refused with `type` (an impossible history). */
  thenFoldError(type: ErrorClass, message?: RegExp): Error;
  when(input: I): Then<S, O>;
}

export function spec<S, E, I, O>(decider: Decider<S, E, I, O>) {
  return {
    given(events: readonly E[]): Given<S, E, I, O> {
      const fold = () => events.reduce(decider.evolve, decider.initial());
      return {
        state: fold,
        thenFoldError(type, message) {
          return caught(() => fold(), type, message);
        },
        when(input) {
          return {
            then(expected) {
              const state = fold();
              const decision = decider.decide(input, state);
              if (decision instanceof Error) throw new Error(`expected a decision, the decider refused: ${decision.message}`);
              if (typeof expected === 'function') (expected as (d: Exclude<O, Error>, s: S) => void)(decision as Exclude<O, Error>, state);
              else expect(decision).toEqual(expected);
              return decision as Exclude<O, Error>;
            },
            thenError(type, message) {
              const state = fold();
              return caught(() => decider.decide(input, state), type, message);
            },
          };
        },
      };
    },
  };
}

function caught(run: () => unknown, type: ErrorClass, message?: RegExp): Error {
  let err: unknown;
  try {
    err = run();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(type);
  if (message) expect((err as Error).message).toMatch(message);
  return err as Error;
}
