// One-shot (the mongodb-init service): make the single mongod a one-member replica set, rs0, which
// change streams need. Idempotent: a second run finds the set initiated and only waits for a primary.
// The member is named mongodb:27017 so the services on the compose network can reach it by that name.
const MEMBER = 'mongodb:27017';

try {
  rs.status();
  print(`replica set already initiated`);
} catch (err) {
  // 94 NotYetInitialized; anything else is a real problem.
  if (err.code !== 94) throw err;
  rs.initiate({ _id: 'rs0', members: [{ _id: 0, host: MEMBER }] });
  print(`replica set rs0 initiated with ${MEMBER}`);
}

const deadline = Date.now() + 60_000;
while (!db.hello().isWritablePrimary) {
  if (Date.now() > deadline) {
    print('no primary after 60 s');
    quit(1);
  }
  sleep(500);
}
print('primary elected');
