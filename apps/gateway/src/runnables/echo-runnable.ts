import { Runnable, type RunnableConfig } from '@langchain/core/runnables';

/** Splits before each run of whitespace that precedes a word, so the pieces join back to the input. */
export function words(text: string): string[] {
  return text.split(/(?<=\S)(?=\s+\S)/);
}

/**
 * At most `max` pieces that join back to `text`: its words, consecutive ones grouped when there
 * are more than `max`. Echo streams these: stream_log repeats the output so far with every chunk
 * (LangServe's protocol), so n chunks of an input cost O(n²) bytes, and word by word a 1 MB body
 * would answer with hundreds of gigabytes; grouped, the answer stays within ~max/2 × the input.
 */
export function echoChunks(text: string, max = ECHO_MAX_CHUNKS): string[] {
  const w = words(text);
  if (w.length <= max) return w;
  const per = Math.ceil(w.length / max);
  const out: string[] = [];
  for (let i = 0; i < w.length; i += per) out.push(w.slice(i, i + per).join(''));
  return out;
}

export const ECHO_MAX_CHUNKS = 64;

/**
 * Built-in `echo`: output = input. Streaming a string yields it word by word (with the spaces
 * kept, so the chunks concatenate back to the input; at most ECHO_MAX_CHUNKS pieces); any other
 * input streams as one chunk.
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
      if (typeof value === 'string') yield* echoChunks(value);
      else yield value;
    }
  }
}
