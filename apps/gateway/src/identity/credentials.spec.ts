import { bearerValue } from './credentials';

/** The expression presentedCredential used before bearerValue: the two must agree on every header. */
const byRegExp = (header: string): string | undefined => /^Bearer\s+(.+)$/i.exec(header.trim())?.[1].trim();

describe('bearerValue', () => {
  it('agrees with /^Bearer\\s+(.+)$/i on the usual and the odd headers', () => {
    const cases = [
      'Bearer abc',
      'bearer abc',
      'BEARER  abc ',
      '  Bearer\tabc.def.ghi  ',
      'Bearer',
      'Bearer ',
      'Bearerabc',
      'Basic abc',
      'Bearer a b c',
      'Bearer \u00a0\u3000abc\ufeff',
      'Bearer\u2028abc',
      'Bearer abc\ndef',
      'Bearer abc\u2029',
      'Bearer abc\u0085def',
      'B\u00e9arer abc',
      'Bearer \u1680 \u200a x',
      'Bearer\u000babc',
      '',
      'x',
    ];
    for (const header of cases) expect([header, bearerValue(header)]).toEqual([header, byRegExp(header)]);
  });

  it('agrees on random headers made of the characters that matter', () => {
    const alphabet = ['B', 'b', 'e', 'E', 'a', 'r', 'R', ' ', '\t', '\n', '\r', '\u00a0', '\u2028', '\ufeff', 'x', '.', '-', '\u0085', '\u00e9'];
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let n = 0; n < 5000; n++) {
      const prefix = next() < 0.7 ? (next() < 0.5 ? 'Bearer' : 'bEaReR') : '';
      let header = prefix;
      const len = Math.floor(next() * 8);
      for (let i = 0; i < len; i++) header += alphabet[Math.floor(next() * alphabet.length)];
      expect([header, bearerValue(header)]).toEqual([header, byRegExp(header)]);
    }
  });
});
