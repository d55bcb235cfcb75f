import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { type Identity, identityOf, setIdentity } from './identity';
import { Scopes } from './scopes';

describe('identityOf / setIdentity', () => {
  it('is per request, and undefined until set', () => {
    const a = new IncomingMessage(new Socket());
    const b = new IncomingMessage(new Socket());
    const id: Identity = { name: 'bot', kind: 'api_key', scopes: Scopes.all };
    expect(identityOf(a)).toBeUndefined();
    setIdentity(a, id);
    expect(identityOf(a)).toBe(id);
    expect(identityOf(b)).toBeUndefined();
    // Not a property a handler could see or overwrite: setting it adds no own key of any kind.
    const keysBefore = Reflect.ownKeys(new IncomingMessage(new Socket())).map(String).sort();
    expect(Reflect.ownKeys(a).map(String).sort()).toEqual(keysBefore);
    // Set again: the later identity wins, as with a WeakMap.
    const other: Identity = { name: 'other', kind: 'jwt', scopes: Scopes.all };
    setIdentity(a, other);
    expect(identityOf(a)).toBe(other);
    expect(identityOf(undefined as unknown as IncomingMessage)).toBeUndefined();
    expect(() => setIdentity('req' as unknown as IncomingMessage, id)).toThrow(TypeError);
  });
});
