/**
 * Thrown by a guard when the request needs no answer from the gateway any more: it was answered
 * already (the connection guard's 408) or the client has gone. Not a failure; the status the
 * response ended with (or 499) is what gets counted.
 */
export class RequestAnsweredSignal extends Error {
  constructor() {
    super('request already answered or abandoned');
    this.name = 'RequestAnsweredSignal';
  }
}
