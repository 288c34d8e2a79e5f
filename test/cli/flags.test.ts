import { describe, expect, it } from 'vitest';
import { commandLineOf, parseFlags } from '../../src/cli/flags';

const spec = { options: ['epochs', 'lr', 'out'], flags: ['resume'], usage: 'usage: x' };

describe('parseFlags', () => {
  it('reads --name value, --name=value and boolean flags', () => {
    const f = parseFlags(['--epochs', '3', '--lr=0.5', '--resume'], spec);
    expect(f.int('epochs', 1)).toBe(3);
    expect(f.real('lr', 0, 1, 0.1)).toBe(0.5);
    expect(f.has('resume')).toBe(true);
    expect(f.has('out')).toBe(false);
    expect(f.int('missing-with-fallback', 1, { fallback: 7 })).toBe(7);
  });

  it('says what it expected and what it got, with the usage', () => {
    expect(() => parseFlags(['3'], spec)).toThrow('Expected an option like --epochs, got "3"\nusage: x');
    expect(() => parseFlags(['--bogus', '1'], spec)).toThrow('Expected one of --epochs, --lr, --out, --resume, got --bogus\nusage: x');
    expect(() => parseFlags(['--epochs'], spec)).toThrow('--epochs: expected a value, got nothing\nusage: x');
    expect(() => parseFlags([], spec).required('out')).toThrow('--out: expected a value, got none\nusage: x');
    expect(() => parseFlags(['--epochs', '1.5'], spec).int('epochs', 1)).toThrow('--epochs: expected an integer >= 1, got "1.5"');
    expect(() => parseFlags(['--epochs', '9'], spec).int('epochs', 1, { max: 5 })).toThrow('--epochs: expected an integer in 1..5, got "9"');
    expect(() => parseFlags(['--lr', '1'], spec).real('lr', 0, 1, 0.1)).toThrow('--lr: expected a number in (0, 1), got "1"');
  });

  it('refuses an unknown option, a short option, a value on a boolean and an option where a value belongs', () => {
    expect(() => parseFlags(['--epochs', '3', '--epoch', '4'], spec)).toThrow('Expected one of --epochs, --lr, --out, --resume, got --epoch\nusage: x');
    expect(() => parseFlags(['-e', '3'], spec)).toThrow('Expected one of --epochs, --lr, --out, --resume, got -e\nusage: x');
    expect(() => parseFlags(['--resume=yes'], spec)).toThrow('--resume: expected no value, got "yes"\nusage: x');
    expect(() => parseFlags(['--out', '--resume'], spec)).toThrow(
      '--out: expected a value, got the option --resume (write --out=VALUE for a value starting with "-")\nusage: x',
    );
    expect(() => parseFlags(['--epochs', '3', '--', 'x'], spec)).toThrow('Expected an option like --epochs, got "x"');
  });

  it('says what a bad value was', () => {
    expect(() => parseFlags(['--epochs', 'ten'], spec).int('epochs', 1)).toThrow('--epochs: expected an integer >= 1, got "ten"');
    expect(() => parseFlags(['--lr', 'fast'], spec).real('lr', 0, 1, 0.1)).toThrow('--lr: expected a number in (0, 1), got "fast"');
    expect(() => parseFlags(['--lr='], spec).real('lr', 0, 1, 0.1)).toThrow('--lr: expected a number in (0, 1), got ""');
  });

  it('takes a negative number as a value, and applies defaults', () => {
    expect(() => parseFlags(['--epochs', '-2'], spec).int('epochs', 1)).toThrow('--epochs: expected an integer >= 1, got "-2"');
    expect(parseFlags(['--lr', '-.5'], spec).real('lr', -1, 1, 0.1)).toBe(-0.5);
    const withDefault = { ...spec, defaults: { out: 'runs' } };
    expect(parseFlags([], withDefault).get('out')).toBe('runs');
    expect(parseFlags(['--out=elsewhere'], withDefault).get('out')).toBe('elsewhere');
  });

  it('commandLineOf quotes what a shell would split', () => {
    expect(commandLineOf(['npm', 'run', 'train', '--'], ['--out', 'models/a b', '--k', '1'])).toBe("npm run train -- --out 'models/a b' --k 1");
  });
});
