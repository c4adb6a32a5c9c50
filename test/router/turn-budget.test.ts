import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { TurnBudget } from '../../src/router/http/turn-budget.ts';

/** Takes `n` slots at once; returns the turn (0 = now) in which each was let through. */
async function admitted(budget: TurnBudget, n: number, turns: number): Promise<number[]> {
  const at: number[] = new Array(n).fill(-1);
  let turn = 0;
  for (let i = 0; i < n; i++) {
    const w = budget.take();
    if (w === undefined) at[i] = 0;
    else void w.then(() => { at[i] = turn; });
  }
  for (turn = 1; turn <= turns; turn++) await nextTurn();
  return at;
}

describe('TurnBudget', () => {
  test('while contended, perTurn requests go per event-loop turn, in arrival order', async () => {
    const at = await admitted(new TurnBudget(2, () => true), 7, 6);
    assert.deepEqual(at, [0, 0, 1, 1, 2, 2, 3]);
  });

  test('without backlog nothing waits', async () => {
    const budget = new TurnBudget(1, () => false);
    const at = await admitted(budget, 50, 1);
    assert.ok(at.every((t) => t === 0));
    assert.equal(budget.waiting, 0);
  });

  test('when the backlog clears, everyone waiting goes at the next turn', async () => {
    let contended = true;
    const budget = new TurnBudget(1, () => contended);
    const at: number[] = [];
    for (let i = 0; i < 5; i++) {
      const w = budget.take();
      if (w === undefined) at.push(0);
      else void w.then(() => at.push(i));
    }
    assert.equal(budget.waiting, 4);
    await nextTurn();
    assert.equal(budget.waiting, 3);
    contended = false;
    await nextTurn();
    assert.equal(budget.waiting, 0);
    assert.deepEqual(at, [0, 1, 2, 3, 4]);
  });

  test('a newcomer never overtakes those already waiting', async () => {
    const budget = new TurnBudget(1, () => true);
    const order: string[] = [];
    const first = budget.take();
    assert.equal(first, undefined);
    void budget.take()!.then(() => order.push('second'));
    await nextTurn();
    // The turn that let "second" through has used its slot: a newcomer waits.
    const third = budget.take();
    assert.ok(third);
    void third.then(() => order.push('third'));
    await nextTurn();
    await nextTurn();
    assert.deepEqual(order, ['second', 'third']);
  });

  test('perTurn below 1 is refused', () => {
    assert.throws(() => new TurnBudget(0, () => true), /perTurn must be >= 1/);
  });
});
