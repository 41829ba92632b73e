/**
 * ELK's layout off the page's thread: elkjs's own worker script runs in a Web Worker started from a blob of its
 * text (bundled into this view's script, so the page loads nothing else; the page's CSP allows `worker-src blob:`
 * and nothing more). A layout of a big cluster takes seconds to minutes; in the page it froze the view for all of
 * that, in the worker the view keeps panning, zooming and answering clicks while it runs.
 *
 * One layout at a time: starting another while one runs terminates the worker (ELK cannot be interrupted) and
 * starts a fresh one, so a person who opens a node and then another never waits for the first layout.
 */
import ELK from 'elkjs/lib/elk-api.js';
import type { ELK as Elk, ElkNode } from 'elkjs/lib/elk-api';
import workerSource from 'elkjs/lib/elk-worker.min.js' with { type: 'text' };

/** What a layout came to: the laid-out graph, or `undefined` when a newer layout replaced it. */
export type LayoutResult = ElkNode | undefined;

interface Running {
  readonly settle: (result: LayoutResult, error?: Error) => void;
}

export class LayoutWorker {
  private elk: Elk | undefined;
  private worker: Worker | undefined;
  private running: Running | undefined;
  private url: string | undefined;
  /** Workers started so far (a fresh one after each cancelled layout). */
  started = 0;

  /** Lays `graph` out in the worker. Resolves `undefined` if another layout is started before this one ends. */
  layout(graph: ElkNode): Promise<LayoutResult> {
    if (this.running) this.cancel();
    return new Promise<LayoutResult>((resolve, reject) => {
      const running: Running = {
        settle: (result, error) => {
          if (this.running !== running) return;
          this.running = undefined;
          if (error) reject(error);
          else resolve(result);
        },
      };
      this.running = running;
      try {
        const elk = this.start();
        elk.layout(graph).then(
          (laid) => running.settle(laid),
          (err: unknown) => running.settle(undefined, err instanceof Error ? err : new Error(String(err))),
        );
      } catch (err) {
        running.settle(undefined, err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /**
   * Starts the worker and lays out `graph` (a small one) without waiting for it: done while the host analyses, the
   * worker's script is loaded and ELK's code warmed up before the first real layout. A layout started meanwhile
   * waits its turn in the worker rather than stopping it.
   */
  warm(graph: ElkNode): void {
    try {
      void this.start()
        .layout(graph)
        .catch(() => undefined);
    } catch {
      // The first real layout starts the worker again and says why it could not.
      this.stop();
    }
  }

  /** Abandons the running layout (its promise resolves `undefined`) and stops its worker. */
  cancel(): void {
    const running = this.running;
    if (!running) return;
    this.stop();
    running.settle(undefined);
  }

  dispose(): void {
    this.cancel();
    this.stop();
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = undefined;
  }

  private start(): Elk {
    if (this.elk) return this.elk;
    this.url ??= URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }));
    const url = this.url;
    this.elk = new ELK({
      algorithms: ['layered'],
      workerFactory: () => {
        const worker = new Worker(url, { name: 'netpath-topology-layout' });
        // A worker that fails to load or dies would leave the layout waiting forever: say why instead.
        worker.addEventListener('error', (e) => {
          e.preventDefault();
          this.running?.settle(undefined, new Error(`the layout worker failed: ${e.message || 'it did not start'}`));
          if (this.worker === worker) this.stop();
        });
        this.worker = worker;
        this.started++;
        return worker;
      },
    });
    return this.elk;
  }

  private stop(): void {
    this.elk?.terminateWorker();
    this.elk = undefined;
    this.worker = undefined;
  }
}
