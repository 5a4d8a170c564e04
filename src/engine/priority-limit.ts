/**
 * A concurrency limit that picks the most urgent waiting task instead of the oldest. The runner
 * ranks a target's later phases first, so a target whose evidence is taken moves on to containment
 * at once instead of queueing behind every other target's preservation (a FIFO queue contains the
 * first instance only after nearly every instance is preserved).
 */
export interface PriorityLimit {
  /** Run `task` when a slot is free; among waiting tasks, higher `priority` first, then first come. */
  <T>(priority: number, task: () => Promise<T>): Promise<T>;
}

export function priorityLimit(concurrency: number): PriorityLimit {
  let active = 0;
  let order = 0;
  // A binary heap keyed by (priority desc, arrival asc): a fleet queues thousands of steps.
  const heap: { priority: number; order: number; start: () => void }[] = [];
  const before = (a: (typeof heap)[number], b: (typeof heap)[number]) =>
    a.priority !== b.priority ? a.priority > b.priority : a.order < b.order;
  const push = (item: (typeof heap)[number]) => {
    heap.push(item);
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  };
  const pop = () => {
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < heap.length && before(heap[l]!, heap[best]!)) best = l;
        if (r < heap.length && before(heap[r]!, heap[best]!)) best = r;
        if (best === i) break;
        [heap[i], heap[best]] = [heap[best]!, heap[i]!];
        i = best;
      }
    }
    return top;
  };
  const next = () => {
    while (active < concurrency && heap.length) {
      active++;
      pop()!.start();
    }
  };
  return <T>(priority: number, task: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      push({
        priority,
        order: order++,
        start: () =>
          void task()
            .then(resolve, reject)
            .finally(() => {
              active--;
              next();
            }),
      });
      next();
    });
}
