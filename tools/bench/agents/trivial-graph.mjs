// The agents benchmark's graph (tools/bench/agents/run.ts): state { count }, one node returning its
// input + 1. Served as 'trivial' by both the gateway (LANGGRAPH_JSON=./langgraph.json) and the
// LangGraph reference dev server.
import { Annotation, END, START, StateGraph } from '@langchain/langgraph';

const State = Annotation.Root({ count: /** @type {import('@langchain/langgraph').LastValue<number>} */ (Annotation()) });

export const graph = new StateGraph(State)
  .addNode('add_one', (state) => ({ count: state.count + 1 }))
  .addEdge(START, 'add_one')
  .addEdge('add_one', END)
  .compile();
