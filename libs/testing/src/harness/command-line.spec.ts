import { CommandLine, OptionError, splitList } from './command-line';

describe('CommandLine', () => {
  const cl = (argv: string[], env: Record<string, string> = {}) => new CommandLine(argv, env);

  it('takes --name=value, then the environment variable, then the fallback', () => {
    expect(cl(['--count=5'], { BENCH_COUNT: '7' }).option('count', 'BENCH_COUNT', '9')).toBe('5');
    expect(cl([], { BENCH_COUNT: '7' }).option('count', 'BENCH_COUNT', '9')).toBe('7');
    expect(cl([]).option('count', 'BENCH_COUNT', '9')).toBe('9');
    expect(cl([]).option('count', 'BENCH_COUNT')).toBeUndefined();
    expect(cl(['--url=http://x/?a=b']).option('url')).toBe('http://x/?a=b'); // only the first '=' splits
  });

  it('reads a bare --flag as "true", and does not mistake a longer name for it', () => {
    expect(cl(['--profile']).option('profile')).toBe('true');
    expect(cl(['--profile']).has('profile')).toBe(true);
    expect(cl(['--profile-sources=a']).has('profile')).toBe(false);
    expect(cl(['--profile-sources=a']).option('profile')).toBeUndefined();
  });

  it('refuses a bad number naming the option and its variable', () => {
    expect(cl(['--rate=2.5']).number('rate', 'R', 1)).toBe(2.5);
    expect(() => cl(['--rate=0']).number('rate', 'R', 1)).toThrow(new OptionError('--rate (R): expected a positive number, got "0"'));
    expect(() => cl([], { R: 'lots' }).number('rate', 'R', 1)).toThrow(/--rate \(R\): expected a positive number, got "lots"/);
    expect(cl([]).integer('retries', undefined, 2, 0)).toBe(2);
    expect(cl(['--retries=0']).integer('retries', undefined, 2, 0)).toBe(0);
    expect(() => cl(['--retries=1.5']).integer('retries', undefined, 2, 0)).toThrow(/--retries: expected a whole number ≥ 0, got "1.5"/);
  });

  it('splits lists and keeps positional arguments', () => {
    expect(cl(['--configs= a, b ,,c']).list('configs', undefined, 'x')).toEqual(['a', 'b', 'c']);
    expect(splitList(undefined)).toEqual([]);
    expect(cl(['200', '--x=1', '30']).positional).toEqual(['200', '30']);
  });
});
