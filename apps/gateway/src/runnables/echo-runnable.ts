import { Runnable, type RunnableConfig } from '@langchain/core/runnables';

/** Splits before each run of whitespace that precedes a word, so the pieces join back to the input. */
export function words(text: string): string[] {
  return text.split(/(?<=\S)(?=\s+\S)/);
}

/**
 * Built-in `echo`: output = input. Streaming a string yields it word by word (with the spaces
 * kept, so the chunks concatenate back to the input); any other input streams as one chunk.
 * Goes through LangChain's run machinery (callbacks, run ids) like any other runnable, so
 * stream_log and stream_events show it.
 */
export class EchoRunnable extends Runnable<unknown, unknown> {
  lc_namespace = ['runnel', 'runnables'];

  static override lc_name(): string {
    return 'Echo';
  }

  override async invoke(input: unknown, options?: Partial<RunnableConfig>): Promise<unknown> {
    return this._callWithConfig(async (x: unknown) => x, input, options);
  }

  override async *_streamIterator(input: unknown, options?: Partial<RunnableConfig>): AsyncGenerator<unknown> {
    async function* once() {
      yield input;
    }
    yield* this._transformStreamWithConfig(once(), (inputs) => this.#chunks(inputs), options);
  }

  async *#chunks(inputs: AsyncGenerator<unknown>): AsyncGenerator<unknown> {
    for await (const value of inputs) {
      if (typeof value === 'string') yield* words(value);
      else yield value;
    }
  }
}
