// node tools/dev/run-ts.mjs tools/bench/gateway/profile-summary-cli.ts <file.cpuprofile> [--top=25] [--from-ms=N] [--to-ms=N] [--json]
import { profileSummaryCli } from './profile-summary';

process.exitCode = profileSummaryCli();
