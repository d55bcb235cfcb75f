/**
 * Thrown by a fenced checkpoint write when another replica has taken the stream's lease (its
 * fencing token is newer): this reader must stop reading at once and stand by.
 */
export class FencedError extends Error {
  constructor(stream: string) {
    super(`lease for stream ${stream} is held by another reader (stale fencing token)`);
    this.name = 'FencedError';
  }
}
