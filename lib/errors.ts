// Typed errors thrown by domain functions; lib/http/route.ts maps them to HTTP statuses.
export class DomainError extends Error {
  constructor(
    public readonly code: string,
    message: string,
    public readonly status: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
export class BadRequestError extends DomainError {
  constructor(message: string, code = "bad_request") {
    super(code, message, 400);
  }
}
export class UnauthorizedError extends DomainError {
  constructor(message = "sign in first", code = "unauthorized") {
    super(code, message, 401);
  }
}
export class ForbiddenError extends DomainError {
  constructor(message = "your role does not allow this", code = "forbidden") {
    super(code, message, 403);
  }
}
export class NotFoundError extends DomainError {
  constructor(what: string) {
    super("not_found", `${what} not found`, 404);
  }
}
export class ConflictError extends DomainError {
  constructor(message: string, code = "conflict") {
    super(code, message, 409);
  }
}
export class RateLimitedError extends DomainError {
  constructor(
    message: string,
    public readonly retryAfterSec: number,
  ) {
    super("rate_limited", message, 429);
  }
}
