// Tests that look into an error (its reason, its message) need the error itself, and must fail
// when the promise resolves or rejects with anything else.
import { expect } from "vitest";

/** Awaits `p`, expects it to reject with an instance of `type`, and returns that error. */
export async function rejectionOf<E>(p: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(type);
  return err as E;
}
