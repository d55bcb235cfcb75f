/** Lua scripts are bundled as text (esbuild `loader: {'.lua': 'text'}`; jest's text transform). */
declare module '*.lua' {
  const source: string;
  export default source;
}
