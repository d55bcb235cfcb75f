/**
 * The errors the agent repositories throw, each with the HTTP status the LangGraph API answers with
 * (`status`) and the reference server's message; routes map them to `{ detail: message }` responses.
 */
export abstract class StorageError extends Error {
  abstract readonly status: number;
}

/**
 * 404: the assistant, assistant version, thread or run does not exist (or not on the thread it was
 * asked for), including a run created with `if_not_exists: 'reject'` on a thread that is missing.
 */
export class NotFoundError extends StorageError {
  readonly status = 404;
  override readonly name = 'NotFoundError';
}

/** 409: an assistant or thread created with `if_exists: 'raise'` under an id that is taken. */
export class ConflictError extends StorageError {
  readonly status = 409;
  override readonly name = 'ConflictError';
}

/**
 * 422: a run created with `multitask_strategy: 'reject'` on a thread that already has a pending or
 * running run.
 */
export class ThreadBusyError extends StorageError {
  readonly status = 422;
  override readonly name = 'ThreadBusyError';

  constructor(message = 'Thread is already running a task. Wait for it to finish or choose a different multitask strategy.') {
    super(message);
  }
}
