import { inspect } from 'node:util';
import { ConfigError, env, parseConfig, Secret } from './index';

const schema = {
  PORT: env.port(8080),
  ENABLED: env.bool(false),
  MODE: env.oneOf(['a', 'b'], 'a'),
  TIMEOUT: env.secondsAsMs(2.5),
  LIMIT: env.bytes('1mb'),
  ORIGINS: env.list(['x']),
  URL: env.url({ optional: true }),
  API_KEY: env.secret(),
  KEYS: env.secretList(),
};

describe('parseConfig', () => {
  it('applies typed defaults when variables are unset or empty', () => {
    const c = parseConfig(schema, { ENABLED: '' });
    expect(c).toMatchObject({ PORT: 8080, ENABLED: false, MODE: 'a', TIMEOUT: 2500, LIMIT: 1048576, ORIGINS: ['x'] });
    expect(c.URL).toBeUndefined();
    expect(c.API_KEY).toBeUndefined();
  });

  it('parses set values', () => {
    const c = parseConfig(schema, { PORT: '9000', ENABLED: 'yes', MODE: 'B', TIMEOUT: '0.5', LIMIT: '512kb', ORIGINS: 'a, b,,', KEYS: 'k1,k2' });
    expect(c).toMatchObject({ PORT: 9000, ENABLED: true, MODE: 'b', TIMEOUT: 500, LIMIT: 524288, ORIGINS: ['a', 'b'] });
    expect(c.KEYS?.reveal()).toEqual(['k1', 'k2']);
  });

  it('matches one-of values in any case and gives their canonical spelling (FULL_DOCUMENT=updateLookup)', () => {
    const mixed = { FULL_DOCUMENT: env.oneOf(['updateLookup', 'whenAvailable', 'default'], 'updateLookup') };
    expect(parseConfig(mixed, { FULL_DOCUMENT: 'updateLookup' }).FULL_DOCUMENT).toBe('updateLookup');
    expect(parseConfig(mixed, { FULL_DOCUMENT: ' WHENAVAILABLE ' }).FULL_DOCUMENT).toBe('whenAvailable');
    expect(() => parseConfig(mixed, { FULL_DOCUMENT: 'lookup' })).toThrow(/FULL_DOCUMENT: must be one of updateLookup, whenAvailable, default/);
  });

  it('lists every bad variable by name, with a reason and without its value', () => {
    let error: ConfigError | undefined;
    try {
      parseConfig(schema, { PORT: '99999', ENABLED: 'maybe', MODE: 'z', TIMEOUT: 'soon', LIMIT: 'lots', URL: 'not a url sekrit-value' });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems.map((p) => p.variable).sort()).toEqual(['ENABLED', 'LIMIT', 'MODE', 'PORT', 'TIMEOUT', 'URL']);
    expect(error!.message).toContain('PORT: must be at most 65535');
    expect(error!.message).toContain('ENABLED: must be true or false');
    expect(error!.message).not.toContain('sekrit-value');
  });
});

describe('Secret', () => {
  it('never prints its value', () => {
    const s = new Secret('hunter2-very-secret');
    const printed = [String(s), `${s}`, JSON.stringify({ s }), inspect({ s }), inspect(s)].join(' ');
    expect(printed).not.toContain('hunter2');
    expect(s.reveal()).toBe('hunter2-very-secret');
  });
});
