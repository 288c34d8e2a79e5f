/** Thrown from the default branch of an exhaustive switch; a missed case fails to compile. */
export class UnreachableCaseError extends Error {
  constructor(value: never) {
    super(`Unreachable case: ${JSON.stringify(value)}`);
  }
}
