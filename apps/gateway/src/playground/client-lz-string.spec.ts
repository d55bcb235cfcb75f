import LZString from 'lz-string';
import { LZ_STRING_SCRIPT } from './client-lz-string';

const compress = new Function(`${LZ_STRING_SCRIPT}; return lzCompressToEncodedURIComponent;`)() as (s: string) => string;

describe('page script lzCompressToEncodedURIComponent', () => {
  it('writes what lz-string writes, and lz-string reads it back', () => {
    const samples = [
      '',
      'a',
      '{}',
      JSON.stringify({ configurable: { style: 'fancy', temperature: 0.5 } }),
      JSON.stringify({ configurable: { name: 'Zoë 😀 ünïcödé ✓', nested: { deep: [1, 2, 3, 'x'.repeat(300)] } }, tags: ['a', 'b'] }),
      'abababababababababababababababababab'.repeat(50),
    ];
    // Random strings over a small alphabet (many dictionary hits) and over wide code points.
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let i = 0; i < 200; i++) {
      const len = rand(400);
      let s = '';
      for (let j = 0; j < len; j++) s += String.fromCharCode(i % 2 ? 97 + rand(4) : 32 + rand(0x3000));
      samples.push(s);
    }
    for (const s of samples) {
      const ours = compress(s);
      expect(ours).toBe(LZString.compressToEncodedURIComponent(s));
      expect(LZString.decompressFromEncodedURIComponent(ours)).toBe(s);
    }
  });
});
