// Jest transform for files bundled as text (Lua scripts): the module's default export is the file's content,
// as esbuild's `text` loader gives it to the service bundles.
module.exports = {
  /**
   * @param {string} source the file's content
   * @returns {{ code: string }}
   */
  process(source) {
    return { code: `module.exports = { __esModule: true, default: ${JSON.stringify(source)} };` };
  },
};
