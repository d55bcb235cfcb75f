/**
 * Thrown when a reader writes checkpoint state with a fencing token older than the current lease's:
 * another replica has taken the stream over, and this one must stop reading at once.
 */
export class FencedError extends Error {
  constructor(stream: string) {
    super(`lease for stream ${stream} is held by another reader (stale fencing token)`);
    this.name = 'FencedError';
  }
}
