import { forbiddenDetail } from './authorize-guard';
import { parseScopes } from '../caller/scopes';

describe('forbiddenDetail', () => {
  const scopes = parseScopes(['echo:invoke'], 'test');

  it('names an API key, the endpoint and the path with its slash', () => {
    expect(forbiddenDetail({ name: 'support-bot', kind: 'api_key', scopes }, 'batch', 'agents/support')).toBe(
      'API key "support-bot" may not call batch on "/agents/support"',
    );
  });

  it('names a token by its subject, quoted as JSON so odd characters cannot break the message', () => {
    expect(forbiddenDetail({ name: 'alice "admin"', kind: 'jwt', scopes }, 'invoke', 'chat')).toBe('Token subject "alice \\"admin\\"" may not call invoke on "/chat"');
  });
});
