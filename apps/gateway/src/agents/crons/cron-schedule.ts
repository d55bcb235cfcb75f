import { CronExpressionParser } from 'cron-parser';
import { HttpError } from '../../protocol/http-error';

/**
 * What is wrong with a cron's schedule, or undefined: a schedule is a 5-field cron expression
 * (minute hour day-of-month month day-of-week), interpreted in UTC as the LangGraph Platform does.
 */
export function scheduleProblem(schedule: string): string | undefined {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5) return `must be a cron expression of 5 fields (minute hour day month weekday), got ${JSON.stringify(schedule.slice(0, 100))}`;
  try {
    CronExpressionParser.parse(fields.join(' '), { tz: 'UTC' });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * The first time the schedule fires strictly after `after` (UTC).
 * @throws HttpError 422 naming `schedule` when it is not a 5-field cron expression
 */
export function nextRunDate(schedule: string, after: Date): Date {
  const problem = scheduleProblem(schedule);
  if (problem) throw new HttpError(422, `schedule: ${problem}`);
  return CronExpressionParser.parse(schedule.trim().split(/\s+/).join(' '), { tz: 'UTC', currentDate: after }).next().toDate();
}
