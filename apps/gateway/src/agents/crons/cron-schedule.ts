import { CronExpressionParser } from 'cron-parser';
import { HttpError } from '../../protocol/http-error';

/**
 * The first time a schedule fires strictly after `after`, or what is wrong with it: a schedule is
 * a 5-field cron expression (minute hour day-of-month month day-of-week), interpreted in UTC as
 * the LangGraph Platform does. One parse either way.
 */
function fireAfter(schedule: string, after: Date): { next: Date } | { problem: string } {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5) return { problem: `must be a cron expression of 5 fields (minute hour day month weekday), got ${JSON.stringify(schedule.slice(0, 100))}` };
  try {
    return { next: CronExpressionParser.parse(fields.join(' '), { tz: 'UTC', currentDate: after }).next().toDate() };
  } catch (err) {
    return { problem: (err as Error).message };
  }
}

/** What is wrong with a cron's schedule, or undefined. */
export function scheduleProblem(schedule: string): string | undefined {
  const r = fireAfter(schedule, new Date());
  return 'problem' in r ? r.problem : undefined;
}

/**
 * The first time the schedule fires strictly after `after` (UTC).
 * @throws HttpError 422 naming `schedule` when it is not a 5-field cron expression
 */
export function nextRunDate(schedule: string, after: Date): Date {
  const r = fireAfter(schedule, after);
  if ('problem' in r) throw new HttpError(422, `schedule: ${r.problem}`);
  return r.next;
}
