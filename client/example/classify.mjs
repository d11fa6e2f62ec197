// @ts-check
// A partner's first call, typed: `node client/example/classify.mjs` against a running gateway
// (NLP_GATEWAY_URL, default http://localhost:4000/graphql; NLP_GATEWAY_API_KEY when it needs a key).
// Plain JavaScript checked by TypeScript (npm run build), so a schema change that breaks it fails CI.
import { createClient, GatewayError, HealthDocument } from 'nlp-gateway/client';

const gateway = createClient({
  url: process.env.NLP_GATEWAY_URL ?? 'http://localhost:4000/graphql',
  apiKey: process.env.NLP_GATEWAY_API_KEY,
  timeoutMs: 10_000,
  onRetry: ({ attempt, delayMs, error }) => console.error(`attempt ${attempt} got ${error.code}; retrying in ${delayMs} ms`),
});

// The shorthands return the field itself, typed from schema.graphql.
const verdict = await gateway.classify('WIN a FREE cruise! Click now to claim your prize.');
console.log(`classify: ${verdict.label} (${verdict.score.toFixed(3)}) by ${verdict.model.name} ${verdict.model.version}`);

const [first, second] = await gateway.embedBatch(['The cat sat on the mat.', 'A cat was sitting on a rug.']);
if (!first || !second) throw new Error('expected two embeddings');
const cosine = first.values.reduce((sum, v, i) => sum + v * (second.values[i] ?? 0), 0);
console.log(`embedBatch: ${first.dimensions} dimensions, cosine similarity ${cosine.toFixed(3)}`);

// Any public operation through request(), with its result type.
const { health } = await gateway.request(HealthDocument);
console.log(`health: ${health.status}, models ${health.models.map((m) => `${m.name}=${m.ready ? 'ready' : 'loading'}`).join(' ')}`);

// Errors carry a typed code to switch over.
try {
  await gateway.classify('hello', { model: 'no-such-model' });
} catch (e) {
  if (!(e instanceof GatewayError)) throw e;
  switch (e.code) {
    case 'MODEL_NOT_FOUND':
      console.log(`error: ${e.code}: ${e.message}`);
      break;
    case 'OVERLOADED':
      console.log(`busy; retry in ${e.retryAfterMs ?? 'a moment'} ms`);
      break;
    default:
      throw e;
  }
}
