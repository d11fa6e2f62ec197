// The example operations the IDE opens with, one tab each: a first call of every kind a partner makes.
// Validated against schema.graphql by test/unit/ide-examples.test.ts.

export interface IdeExample {
  /** Tab title in GraphiQL comes from the operation name. */
  query: string;
  /** JSON shown in the variables editor. */
  variables?: Record<string, unknown>;
}

export const IDE_EXAMPLES: readonly IdeExample[] = [
  {
    query: `# Welcome to nlp-gateway.
# Run this with the ▶ button or Ctrl-Enter.
# Docs on the left; Ctrl-Space completes.
# API key? Headers: {"x-api-key": "..."}
query Classify($text: String!) {
  classify(text: $text) {
    label
    score
    scores { label score }
    model { name version }
    tokens
    truncated
    cached
    fallback
  }
}
`,
    variables: { text: 'WIN a FREE cruise! Click now to claim your prize.' },
  },
  {
    query: `# Several texts in one call;
# answers come in the order of the texts.
query ClassifyBatch($texts: [String!]!) {
  classifyBatch(texts: $texts) {
    label
    score
    model { name }
    tokens
  }
}
`,
    variables: { texts: ['Can you review my patch to the mailing list before Friday?', 'Congratulations, you have been selected for a cash reward!'] },
  },
  {
    query: `# A sentence embedding: a unit vector
# unless normalize is false.
query Embed($text: String!) {
  embed(text: $text) {
    dimensions
    values
    model { name version }
    tokens
  }
}
`,
    variables: { text: 'The cat sat on the mat.' },
  },
  {
    query: `# The models this gateway serves. "default":
# used when a request names no model. Pin a
# version with model: "name@version".
query Models {
  models {
    name version task labels dimensions maxTokens fallback default
    versions { version state share }
  }
}
`,
  },
  {
    query: `# Can the gateway and each model serve?
query Health {
  health {
    status
    version
    uptimeSeconds
    models { name ready breaker version problem }
    cache { enabled entries redis }
  }
}
`,
  },
];
