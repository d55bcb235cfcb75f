/**
 * Page script: lz-string's `compressToEncodedURIComponent`, the compression LangServe's playground
 * (and the gateway's `decodeConfigHash`) uses for `c/{hash}` share links. Inlined because the page
 * loads nothing but itself (CSP: no external scripts).
 *
 * A compact rewrite of lz-string 1.4.5's `_compress` with 6 bits per character (same output, bit for
 * bit; client-lz-string.spec.ts checks it against the library). lz-string: MIT License, Copyright (c)
 * 2013 pieroxy, https://github.com/pieroxy/lz-string.
 */
export const LZ_STRING_SCRIPT = String.raw`
function lzCompressToEncodedURIComponent(input) {
  var ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-$';
  var out = [], val = 0, pos = 0;
  // Writes the low n bits of value, least significant first, 6 bits to an output character.
  function bits(value, n) {
    for (var i = 0; i < n; i++) {
      val = (val << 1) | (value & 1);
      if (pos === 5) { pos = 0; out.push(ALPHABET.charAt(val)); val = 0; } else pos++;
      value >>= 1;
    }
  }
  var dict = new Map(), toCreate = new Set(), w = '', enlargeIn = 2, dictSize = 3, numBits = 2;
  function grow() { if (--enlargeIn === 0) { enlargeIn = Math.pow(2, numBits); numBits++; } }
  function emitW() {
    if (toCreate.has(w)) {
      var code = w.charCodeAt(0);
      if (code < 256) { bits(0, numBits); bits(code, 8); } else { bits(1, numBits); bits(code, 16); }
      grow();
      toCreate.delete(w);
    } else {
      bits(dict.get(w), numBits);
    }
    grow();
  }
  for (var k = 0; k < input.length; k++) {
    var c = input.charAt(k);
    if (!dict.has(c)) { dict.set(c, dictSize++); toCreate.add(c); }
    var wc = w + c;
    if (dict.has(wc)) { w = wc; continue; }
    emitW();
    dict.set(wc, dictSize++);
    w = c;
  }
  if (w !== '') emitW();
  bits(2, numBits);
  for (;;) { val <<= 1; if (pos === 5) { out.push(ALPHABET.charAt(val)); break; } pos++; }
  return out.join('');
}
`;
