// The ambient `*.lua` module type reaches every project that compiles this lib through its path alias.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./lua.d.ts" />
export { type RedisClient, RedisScripts, type ScriptFile } from './redis-scripts';
