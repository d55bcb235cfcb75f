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

  describe('with the options declared', () => {
    const declared = (argv: string[], env: Record<string, string> = {}) => new CommandLine(argv, env, { values: ['uri', 'rate'], flags: ['oversize'] });

    it('reads --name value of a value option as --name=value, and leaves --name=value as it is', () => {
      const c = declared(['--uri', 'mongodb://h/?a=b', '--rate=5', 'extra']);
      expect(c.option('uri')).toBe('mongodb://h/?a=b');
      expect(c.number('rate', undefined, 1)).toBe(5);
      expect(c.positional).toEqual(['extra']);
      expect(c.argv).toEqual(['--uri=mongodb://h/?a=b', '--rate=5', 'extra']);
      expect(declared(['--rate', '-1']).option('rate')).toBe('-1'); // a value may start with one dash
    });

    it('keeps a bare flag a flag: the argument after it stays positional', () => {
      const c = declared(['--oversize', 'pos', '--rate', '3']);
      expect(c.has('oversize')).toBe(true);
      expect(c.positional).toEqual(['pos']);
      expect(c.option('rate')).toBe('3');
    });

    it('refuses an undeclared option, and a value option with no value', () => {
      expect(() => declared(['--bogus', '1'])).toThrow(new OptionError('unknown option --bogus'));
      expect(() => declared(['--bogus=1'])).toThrow(new OptionError('unknown option --bogus'));
      expect(() => declared(['--rate'])).toThrow(new OptionError('--rate: missing value'));
      expect(() => declared(['--rate', '--oversize'])).toThrow(new OptionError('--rate: missing value'));
    });

    it('still falls back to the environment variable and the default', () => {
      expect(declared([], { MONGODB_URI: 'mongodb://env' }).option('uri', 'MONGODB_URI')).toBe('mongodb://env');
      expect(declared([]).option('rate', undefined, '20')).toBe('20');
    });
  });

  it('without declared options, reads every argument as before (no --name value, nothing refused)', () => {
    const c = cl(['--uri', 'x', '--bogus']);
    expect(c.option('uri')).toBe('true');
    expect(c.positional).toEqual(['x']);
  });
});
