import { describe, expect, it } from 'vitest';
import { clipText } from '../../functions/common/payload-limits.ts';
import { resultExpiresAt, resultKeyPrefix } from '../../functions/common/result-store.ts';
import { parseResultPage, toResultValue } from '../../functions/common/results.ts';

describe('Function: parseResultPage', () => {
  it('keeps every digit of longValue and doubleValue, and reads the other numbers as numbers', () => {
    const page = parseResultPage(
      '{"Records":[[{"longValue":9007199254740993},{"longValue":-9223372036854775808},{"doubleValue":0.1},{"stringValue":"{\\"longValue\\":1}"}]],' +
        '"ColumnMetadata":[{"name":"a","typeName":"int8","precision":19}],"TotalNumRows":1}',
    );
    expect(page.Records).toEqual([
      [
        { longValue: '9007199254740993' },
        { longValue: '-9223372036854775808' },
        { doubleValue: '0.1' },
        { stringValue: '{"longValue":1}' },
      ],
    ]);
    expect(page.ColumnMetadata?.[0]?.precision).toBe(19);
    expect(page.TotalNumRows).toBe(1);
  });
});

describe('Function: toResultValue', () => {
  it.each([
    [{ longValue: '9007199254740991' }, 9007199254740991],
    [{ longValue: '9007199254740992' }, '9007199254740992'],
    [{ longValue: '-9007199254740993' }, '-9007199254740993'],
    [{ longValue: '9223372036854775807' }, '9223372036854775807'],
    [{ longValue: '0' }, 0],
    [{ longValue: '-42' }, -42],
    [{ doubleValue: '1.5e300' }, 1.5e300],
    [{ stringValue: '12345678901234567890.0123456789' }, '12345678901234567890.0123456789'],
    [{ booleanValue: false }, false],
    [{ isNull: true }, null],
    [{ blobValue: 'AAEC' }, 'AAEC'],
  ])('reads %j as %j', (field, value) => {
    expect(toResultValue(field)).toEqual(value);
  });
});

describe('Function: resultExpiresAt', () => {
  it('adds the days and rounds up to the next midnight UTC, as S3 lifecycle rules count', () => {
    expect(resultExpiresAt(new Date('2026-11-28T12:00:00Z'), 7).toISOString()).toBe(
      '2026-12-06T00:00:00.000Z',
    );
    expect(resultExpiresAt(new Date('2026-11-28T00:00:00Z'), 1).toISOString()).toBe(
      '2026-11-29T00:00:00.000Z',
    );
  });
});

describe('Function: resultKeyPrefix', () => {
  it('names the state machine, the execution and the statement, under results/', () => {
    expect(
      resultKeyPrefix(
        'arn:aws:states:eu-west-1:123456789012:execution:spectra-query:run-7',
        'st:1',
      ),
    ).toBe('results/spectra-query/run-7/st:1/');
  });
});

describe('Function: clipText', () => {
  it('keeps text that fits, and cuts the rest at a character, saying how long it was', () => {
    expect(clipText('short', 100)).toBe('short');
    const cut = clipText('é'.repeat(1000), 100);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(100);
    expect(cut).toMatch(/^é+ … \[cut: 2000 bytes in all\]$/);
    expect(clipText('😀'.repeat(100), 50)).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});
