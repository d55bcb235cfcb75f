// `npm start`: build, then run the gateway with its built-in runnables on embedded defaults
// (no API key, no external server). Ctrl-C stops it gracefully.
import { spawn, spawnSync } from 'node:child_process';

const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };
const build = spawnSync('nx', ['run', 'gateway:build', '--outputStyle=static'], { stdio: 'inherit', env });
if (build.status !== 0) process.exit(build.status ?? 1);

const port = process.env.PORT ?? '8080';
console.log(`\nRunnel gateway on http://localhost:${port} — try http://localhost:${port}/echo/playground and /chat/playground`);
console.log(`metrics, health and readiness on http://localhost:${process.env.METRICS_PORT ?? '9090'}/metrics\n`);
const child = spawn(process.execPath, ['dist/apps/gateway/main.js'], { stdio: 'inherit', env });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
