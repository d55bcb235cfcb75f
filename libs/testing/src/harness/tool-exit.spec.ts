import { OptionError } from './command-line';
import { runToolMain } from './tool-exit';

describe('runToolMain', () => {
  let exit: jest.SpyInstance;
  let stderr: jest.SpyInstance;
  beforeEach(() => {
    exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => jest.restoreAllMocks());
  const settled = () => new Promise((r) => setImmediate(r));

  it('exits with the code main resolves to', async () => {
    runToolMain('tool', async () => 3);
    await settled();
    expect(exit).toHaveBeenCalledWith(3);
    expect(stderr).not.toHaveBeenCalled();
  });

  it('on a failure, writes `<name>: <message>` (or the stack) and exits with failCode (default 1)', async () => {
    runToolMain('lake:verify', () => Promise.reject(new Error('no bucket')));
    await settled();
    expect(stderr).toHaveBeenCalledWith('lake:verify: no bucket\n');
    expect(exit).toHaveBeenCalledWith(1);
    const err = new Error('down');
    runToolMain('load', () => Promise.reject(err), { failCode: 2, stack: true });
    await settled();
    expect(stderr).toHaveBeenLastCalledWith(`load: ${err.stack}\n`);
    expect(exit).toHaveBeenLastCalledWith(2);
  });

  it('a bad option is a usage error: its message alone and exit 2, whatever failCode', async () => {
    runToolMain('bench', () => Promise.reject(new OptionError('--count: expected a whole number ≥ 1, got "x"')), { failCode: 1, stack: true });
    await settled();
    expect(stderr).toHaveBeenCalledWith('bench: --count: expected a whole number ≥ 1, got "x"\n');
    expect(exit).toHaveBeenCalledWith(2);
  });
});
