import { type ChangeStream, type ChangeStreamDocument, MongoClient, type MongoClientOptions } from 'mongodb';
import { MongoStandIn, type MongoStandInOptions } from './mongo-stand-in';

/** A stand-in and a real driver client on it: what every driver-level spec of the stand-in starts with. */
export interface StandInWithDriver {
  m: MongoStandIn;
  client: MongoClient;
}

/** Starts a stand-in and a driver client on it (the client connects on first use, as the driver does). */
export async function startWithDriver(clientOptions?: MongoClientOptions, options?: MongoStandInOptions): Promise<StandInWithDriver> {
  const m = await MongoStandIn.start(options);
  return { m, client: new MongoClient(m.uri, clientOptions) };
}

/** Closes the client, then stops the stand-in. */
export async function stopWithDriver(s: StandInWithDriver | undefined): Promise<void> {
  await s?.client.close();
  await s?.m.stop();
}

/** Reads `n` events from a change stream (each within the test's timeout). */
export async function take<T = ChangeStreamDocument>(cs: ChangeStream, n: number): Promise<T[]> {
  const out: T[] = [];
  while (out.length < n) out.push((await cs.next()) as T);
  return out;
}
