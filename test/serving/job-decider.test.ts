// The rules of a job execution as plain data (serving/job-decider.ts): which tasks start next within
// the parallelism, when it succeeds or fails, and what an attempt's end makes of its task.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttemptOutcome, TaskAttempt, TaskStatus } from '../../src/core/jobs.ts';
import { failuresOf, nextStep, statusAfter } from '../../src/serving/job-decider.ts';

const attempts = (...outcomes: AttemptOutcome[]): TaskAttempt[] => outcomes.map((outcome, i) => ({ instance: `run-00000000000${i}`, startedAt: i, endedAt: i + 1, outcome }));

test('nextStep: the lowest pending tasks fill the free slots; none free or none pending is a wait', () => {
  const p = (n: number): TaskStatus[] => Array.from({ length: n }, () => 'pending');
  assert.deepEqual(nextStep(p(10), 3), { kind: 'start', tasks: [0, 1, 2] });
  assert.deepEqual(nextStep(['running', 'running', 'running', 'pending'], 3), { kind: 'wait' });
  assert.deepEqual(nextStep(['succeeded', 'running', 'pending', 'pending', 'pending'], 3), { kind: 'start', tasks: [2, 3] });
  // a task waiting for its retry is pending like one never started, and goes by its index
  assert.deepEqual(nextStep(['succeeded', 'pending', 'running', 'succeeded'], 2), { kind: 'start', tasks: [1] });
  assert.deepEqual(nextStep(['succeeded', 'running'], 5), { kind: 'wait' });
  assert.deepEqual(nextStep(['pending'], 1), { kind: 'start', tasks: [0] });
});

test('nextStep: succeeded once every task has; failed as soon as one task has, whatever still runs', () => {
  assert.deepEqual(nextStep(['succeeded', 'succeeded', 'succeeded'], 2), { kind: 'succeeded' });
  assert.deepEqual(nextStep(['succeeded', 'running', 'failed', 'pending'], 2), { kind: 'failed', task: 2 });
  assert.deepEqual(nextStep(['failed', 'failed'], 2), { kind: 'failed', task: 0 });
});

test('statusAfter: retried while failures stay within the retries; interrupted attempts do not count', () => {
  assert.equal(statusAfter({ attempts: attempts('succeeded') }, 'succeeded', 0), 'succeeded');
  assert.equal(statusAfter({ attempts: attempts('failed') }, 'failed', 3), 'pending');
  assert.equal(statusAfter({ attempts: attempts('failed', 'timed-out', 'failed') }, 'failed', 3), 'pending');
  assert.equal(statusAfter({ attempts: attempts('failed', 'timed-out', 'failed', 'failed') }, 'failed', 3), 'failed', '4 failures with 3 retries');
  assert.equal(statusAfter({ attempts: attempts('timed-out') }, 'timed-out', 0), 'failed', 'no retries: the first failure is the last');
  // a daemon restart while it ran: run again, even with no retries left
  assert.equal(statusAfter({ attempts: attempts('failed', 'interrupted') }, 'interrupted', 0), 'pending');
  assert.equal(statusAfter({ attempts: attempts('interrupted', 'interrupted', 'failed') }, 'failed', 1), 'pending');
  assert.equal(statusAfter({ attempts: attempts('failed', 'cancelled') }, 'cancelled', 3), 'cancelled');
  assert.equal(failuresOf({ attempts: attempts('failed', 'interrupted', 'timed-out', 'cancelled', 'succeeded') }), 2);
});
